#!/usr/bin/env python3
"""Writes the seed corpora of the libFuzzer harnesses: tests/fuzz/corpus/<harness>/<name>.

A harness reads its input front to back as a sequence of decisions (fuzz_support.hpp's Input),
so each seed below is spelled out decision by decision, in the order the harness reads them,
through helpers named after what they decide; a seed's name says what it exercises. Bytes past
the end read as 0. When a harness changes the order of its decisions, change the helpers here
and run this again (docs/fuzzing.md)."""

import pathlib
import struct

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"

RARELY = 0xC0  # Input::rarely() is true for a byte >= 0xC0


def u32(value):
    return list(struct.pack("<I", value))


# ---- shared decisions (fuzz_support.hpp) ----------------------------------------------------------

def machine(processors=2, group_size=0, lowest_numbered=0, capacity_less=0):
    """machine_config: processors 1..4, group size (0: 64), delivery, 16 - capacity_less objects."""
    return [processors - 1, group_size, lowest_numbered, capacity_less]


def line(vector, irql, latched, shareable):
    """A device line: vector kVectorBase + vector, IRQL 3 + irql, group 0, every processor."""
    return [vector, irql - 3, int(latched), int(shareable), 0, 0]


def device(lines=(), msi=None, msix=()):
    """device_config: lines (a count byte: 0 gives one line, 3 none), then the messages."""
    count = {0: 3, 1: 0, 2: 1, 3: 2}[len(lines)]
    result = [count] + [byte for one in lines for byte in one]
    if msi is not None:
        messages, vector, irql = msi
        result += [1, messages.bit_length() - 1, vector, irql - 3, 0, 0]
    elif msix:
        result += [2, len(msix) - 1]
        for vector, irql in msix:
            result += [vector, irql - 3, 0, 0]
    else:
        result += [0]
    return result


def thread():
    """caller(): the fuzzer's own thread at PASSIVE_LEVEL."""
    return [0, 0]


def processor(index, raised=None):
    """caller(): a simulated processor, at PASSIVE_LEVEL or raised (0: APC, 1: DISPATCH, 2: 5)."""
    return [1, index] + ([RARELY, raised] if raised is not None else [0])


# ---- connect_ex_fuzzer.cpp --------------------------------------------------------------------------

def connect_ex(fuzzed, resident, parameters, after=()):
    """The machine, the fuzzed device, the resident line (vector, IRQL, shared), the call."""
    vector, irql, shared = resident
    return machine(processors=2) + fuzzed + [vector, irql - 3, int(shared)] + parameters + list(after)


def fully_specified(version=0, pdo=0, lock=0, descriptor=0, overrides=(0,) * 7):
    """Version index 0 (CONNECT_FULLY_SPECIFIED) or 3 (_GROUP): PDO, out, ISR, context, lock,
    descriptor, seven overrides, FloatingSave."""
    return [version, pdo, 0, 0, 0, lock, descriptor] + list(overrides) + [0]


def line_based(pdo=0, lock=0):
    return [1, pdo, 0, 0, 0, lock, 0, 0]


def message_based(version=2, pdo=0, lock=0, fallback=False):
    """Version index 2 (CONNECT_MESSAGE_BASED) or 4 (_PASSIVE)."""
    return [version, pdo, 0, 0, 0, lock, 0, 0, int(fallback)]


def served_and_disconnected(claim=True, version=None, caller=None, twice=False):
    """After a successful connect: claim, the disconnect (a Version override), its caller, again."""
    mismatch = [RARELY, version] if version is not None else [0]
    return [int(claim)] + mismatch + [0] + (caller or thread()) + [int(twice)]


CONNECT_EX = {
    "fully_specified_latched": connect_ex(
        device(lines=[line(2, 5, latched=True, shareable=True)]), (5, 5, True),
        fully_specified() + thread(), served_and_disconnected()),
    "fully_specified_group": connect_ex(
        device(lines=[line(2, 7, latched=False, shareable=True)]), (5, 5, True),
        fully_specified(version=3, lock=2) + processor(1), served_and_disconnected(twice=True)),
    "line_based_on_resident_vector": connect_ex(
        device(lines=[line(5, 5, latched=True, shareable=True), line(6, 8, latched=False, shareable=True)]),
        (5, 5, True), line_based() + thread(), served_and_disconnected()),
    "message_based_msi": connect_ex(
        device(msi=(4, 3, 6)), (1, 9, False),
        message_based(lock=2) + thread(), served_and_disconnected(twice=True)),
    "message_based_passive_msix": connect_ex(
        device(msix=[(3, 4), (9, 11), (10, 4)]), (1, 9, False),
        message_based(version=4) + processor(0), served_and_disconnected(claim=False)),
    "message_based_fallback": connect_ex(
        device(lines=[line(7, 6, latched=False, shareable=True)]), (1, 9, True),
        message_based(fallback=True) + thread(), served_and_disconnected()),
    "disconnect_with_line_based_version": connect_ex(
        device(msix=[(3, 4), (4, 5)]), (1, 9, False),
        message_based() + thread(), served_and_disconnected(version=2)),
    "connect_at_dispatch_level": connect_ex(
        device(lines=[line(2, 5, latched=True, shareable=True)]), (5, 5, True),
        fully_specified() + processor(1, raised=1)),
    "unknown_version": connect_ex(
        device(lines=[line(2, 5, latched=True, shareable=True)]), (5, 5, True), [7] + u32(0x12345678) + thread()),
}


# ---- resource_list_fuzzer.cpp -----------------------------------------------------------------------

SHARED = [0, 0]  # ShareDisposition: not a raw byte, CmResourceShareShared
TYPE = {"port": 1, "interrupt": 2, "memory": 5, "dma": 6, "device_specific": 7}


def interrupt(flags, level, vector):
    """A shared interrupt descriptor: flags 0 level-sensitive, 1 latched, 2 MSI; level; group 0;
    vector from the window; every processor. Each value but the group is a "rarely" byte first."""
    return [TYPE["interrupt"]] + SHARED + [0, flags, 0, level - 3, 0, 0, vector, 0]


def plain(kind):
    """A shared descriptor of another type, all zeros."""
    return [TYPE[kind]] + SHARED + [0]


def device_specific(data):
    return [TYPE["device_specific"]] + SHARED + [len(data)] + list(data)


def full(*partials):
    return [0, len(partials)] + [byte for partial in partials for byte in partial]


def resource_list(*fulls):
    count = {0: 3, 1: 0, 2: 1, 3: 2}[len(fulls)]
    return [count] + [byte for one in fulls for byte in one]


def mirrored(partials):
    """An untranslated list mirroring the translated one: one full descriptor, same types."""
    return [0] + [0, 0] * partials


def list_calls():
    """PcNewResourceList with both lists, an output and no outer object, from the fuzzer's thread."""
    return [0, 0, 0] + thread()


def interfaces(which):
    """QueryInterface: 0 IUnknown, 1 IResourceList, 2 IInterruptSync, 3 another IID."""
    return u32(0) + [which]


def sublist(maximum_index, *adds):
    """PcNewResourceSublist of the list for (maximum_index + 1) % 4 entries, then AddEntryFromParent
    calls as (type index, index)."""
    return [0, 0, 0, maximum_index, len(adds)] + [byte for kind, index in adds for byte in (0, kind, index)]


def sync(index, mode, routines, disconnects=1):
    """PcNewInterruptSync of the list's interrupt `index`, mode 0 Normal, 1 All, 2 Repeat, then
    the routines (First flags), CallSynchronizedRoutine and Disconnect calls."""
    return [0, 0, index, 0, mode, 0] + u32(0) + [len(routines)] + [b for first in routines for b in (0, int(first))] + \
        [0, disconnects]


def syncs(*objects):
    return [len(objects)] + [byte for one in objects for byte in one]


def audio(*partials, untranslated=None, after=()):
    translated = resource_list(full(*partials))
    return [1] + translated + (untranslated if untranslated is not None else mirrored(len(partials))) + \
        list_calls() + list(after)


RESOURCE_LIST = {
    "audio_level_line": audio(
        plain("memory"), interrupt(0, 6, 8), plain("port"),
        after=interfaces(1) + sublist(1, (2, 0), (1, 0)) + syncs(sync(0, 0, [False, True]))),
    "latched_line_repeat_mode": audio(
        interrupt(1, 9, 3), plain("dma"),
        after=interfaces(2) + sublist(0, (2, 0)) + syncs(sync(0, 2, [False, False], disconnects=2))),
    "message_interrupts_two_objects": audio(
        interrupt(2, 5, 1), interrupt(2, 5, 2), plain("memory"),
        after=interfaces(0) + sublist(2) + syncs(sync(0, 1, [True]), sync(1, 0, [False], disconnects=0))),
    "device_specific_data_between_full_descriptors": [0] + resource_list(
        full(plain("port"), device_specific(b"\x01\x02\x03")), full(interrupt(0, 7, 4))) +
    [3] + resource_list(full(plain("port"), device_specific(b"\xAA")), full(interrupt(0, 7, 20))) +
    list_calls() + interfaces(3) + sublist(1, (2, 0)) + syncs(sync(0, 0, [False])),
    "types_differ": audio(
        plain("memory"), interrupt(0, 6, 8),
        untranslated=[3] + resource_list(full(interrupt(0, 6, 8), plain("memory")))),
    "empty_full_descriptor": [0] + resource_list(full()) + mirrored(0) + list_calls(),
}


# ---- api_sequence_fuzzer.cpp ------------------------------------------------------------------------

OPERATION = {name: index for index, name in enumerate([
    "connect", "connect_ex", "disconnect", "pulse", "assert", "deassert", "mask", "synchronize",
    "interrupt_spin_lock", "dpc", "flush_dpcs", "spin_locks", "irql", "wait", "report_state", "affinity"])}


def op(name, *decisions):
    return [OPERATION[name]] + list(decisions)


def behaviour(claims, acknowledges, dpc=None):
    return [int(claims), int(acknowledges)] + ([1, dpc] if dpc is not None else [0])


def sequence(devices, *operations):
    return machine(processors=3) + devices + [byte for one in operations for byte in one]


TWO_DEVICES = device(lines=[line(4, 5, latched=False, shareable=True)]) + device(msi=(2, 8, 7))

API_SEQUENCE = {
    "isr_queues_dpc": sequence(
        TWO_DEVICES,
        op("connect_ex", 0, 0, *behaviour(True, True, dpc=0), 1, 2, 0, *thread()),
        op("assert", 0, 0, 0),
        op("wait"),
        op("synchronize", 0, 1, 0, *thread()),
        op("dpc", 0, *thread(), 1),
        op("disconnect", 0, *thread()),
        op("wait")),
    "message_table": sequence(
        TWO_DEVICES,
        op("connect_ex", 1, 1, *behaviour(True, False), 2, 0, 0, 0, *thread()),
        op("pulse", 1, 2, 1),
        op("report_state", 1, 0, *thread()),
        op("pulse", 1, 2, 0),
        op("report_state", 1, 1, *thread()),
        op("affinity", 1, 1),
        op("wait"),
        op("disconnect", 1, *processor(2))),
    "classic_shared_line": sequence(
        TWO_DEVICES,
        op("connect", 0, 0, *behaviour(False, False), 0, 0, 0, 0, 0, *thread(), 2),
        op("connect", 1, 0, *behaviour(True, True, dpc=1), 0, 0, 0, 0, 0, *processor(1), 0),
        op("mask", 4, 1),
        op("assert", 0, 0, 0),
        op("mask", 4, 0),
        op("wait"),
        op("synchronize", 1, 0, 0, *processor(0)),
        op("interrupt_spin_lock", 0, *thread()),
        op("disconnect", 0, *thread()),
        op("disconnect", 1, *thread()),
        op("disconnect", 0, 1, 0)),
    "locks_irql_and_dpcs": sequence(
        TWO_DEVICES,
        op("spin_locks", 0, 1, 0, 0, 0, 0, 0, 1),
        op("irql", 2, 0, 0, 0, 5, 2),
        op("dpc", 1, *processor(0), 4, 0, 2),
        op("dpc", 1, *thread(), 0),
        op("dpc", 1, *thread(), 1),
        op("flush_dpcs", *thread()),
        op("dpc", 2, *thread(), 5),
        op("dpc", 2, *processor(1, raised=1), 0)),
    "unacknowledged_level_line_storms": sequence(
        TWO_DEVICES,
        op("connect", 0, 0, *behaviour(False, False), 0, 0, 0, 0, 0, *thread(), 2),
        op("assert", 0, 0, 0),
        op("wait"),
        op("wait"),
        op("connect_ex", 2, 1, *behaviour(True, False), 4, 2, 0, 0, *thread()),
        op("pulse", 1, 2, 1),
        op("wait")),
}


def main():
    for harness, seeds in (("connect_ex", CONNECT_EX), ("resource_list", RESOURCE_LIST),
                           ("api_sequence", API_SEQUENCE)):
        directory = CORPUS / harness
        directory.mkdir(parents=True, exist_ok=True)
        for name, decisions in seeds.items():
            (directory / name).write_bytes(bytes(decisions))


if __name__ == "__main__":
    main()
