// What the libFuzzer harnesses (tests/fuzz, docs/fuzzing.md) found, kept as ordinary tests so
// that every build checks it, with or without sanitizers. Each test names the harness and says
// what the input did.

#include <portcls.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <vector>

#include <irqsim/machine.hpp>
#include <irqsim/testing.hpp>

#include "platform/guarded_bytes.hpp"

namespace {

using irqsim::Machine;

// Input flush against a page the process may not touch: reading one byte past it faults.
template <class T>
T* GuardedAs(const irqsim::platform::GuardedBytes& bytes) {
  return reinterpret_cast<T*>(bytes.data());
}

// The first `size` bytes of `value`. (Resized and copied rather than inserted: gcc 12 warns
// falsely about an insert of a few bytes into an empty vector.)
template <class T>
void Append(std::vector<std::byte>& bytes, const T& value, std::size_t size = sizeof(T)) {
  const std::size_t end = bytes.size();
  bytes.resize(end + size);
  std::memcpy(bytes.data() + end, &value, size);
}

// The count of a CM_RESOURCE_LIST of `fulls` full descriptors, which the caller appends.
std::vector<std::byte> ListOf(ULONG fulls) {
  std::vector<std::byte> bytes;
  CM_RESOURCE_LIST list{};
  list.Count = fulls;
  Append(bytes, list, offsetof(CM_RESOURCE_LIST, List));
  return bytes;
}

// The header of a full descriptor of `count` partial descriptors on PCI bus `bus`; the caller
// appends the descriptors.
void AppendFullHeader(std::vector<std::byte>& bytes, ULONG bus, ULONG count) {
  CM_FULL_RESOURCE_DESCRIPTOR full{};
  full.InterfaceType = PCIBus;
  full.BusNumber = bus;
  full.PartialResourceList.Version = 1;
  full.PartialResourceList.Revision = 1;
  full.PartialResourceList.Count = count;
  Append(bytes, full,
         offsetof(CM_FULL_RESOURCE_DESCRIPTOR, PartialResourceList) +
             offsetof(CM_PARTIAL_RESOURCE_LIST, PartialDescriptors));
}

// resource_list_fuzzer, the empty input: a list whose one full descriptor has no partial
// descriptors ends right after that descriptor's header. PcNewResourceList copied the whole
// CM_FULL_RESOURCE_DESCRIPTOR to learn the bus, reading the 20 bytes of a first partial
// descriptor that is not there.
TEST(FuzzRegressions, ResourceListWithAnEmptyFullDescriptorIsReadOnlyAsFarAsItsHeader) {
  Machine machine;
  std::vector<std::byte> bytes = ListOf(1);
  AppendFullHeader(bytes, 3, 0);
  const irqsim::platform::GuardedBytes translated(bytes);
  const irqsim::platform::GuardedBytes untranslated(bytes);
  PRESOURCELIST list = nullptr;
  ASSERT_EQ(PcNewResourceList(&list, nullptr, NonPagedPool, GuardedAs<CM_RESOURCE_LIST>(translated),
                              GuardedAs<CM_RESOURCE_LIST>(untranslated)),
            STATUS_SUCCESS);
  EXPECT_EQ(list->NumberOfEntries(), 0u);
  EXPECT_EQ(list->TranslatedList()->List[0].BusNumber, 3u) << "the bus of the first full descriptor";
  EXPECT_EQ(list->Release(), 0u);
}

// resource_list_fuzzer: device-specific data of 3 bytes ends the first full descriptor, so the
// second one starts at an address that is not a multiple of 4. PcNewResourceList read its header
// through a CM_FULL_RESOURCE_DESCRIPTOR pointer, a misaligned access (UndefinedBehaviorSanitizer
// reports it); the descriptors after it must be found all the same.
TEST(FuzzRegressions, ResourceListWithOddSizedDeviceSpecificDataBeforeAFullDescriptor) {
  Machine machine;
  std::vector<std::byte> bytes = ListOf(2);
  AppendFullHeader(bytes, 0, 1);
  CM_PARTIAL_RESOURCE_DESCRIPTOR specific{};
  specific.Type = CmResourceTypeDeviceSpecific;
  specific.u.DeviceSpecificData.DataSize = 3;
  Append(bytes, specific);
  bytes.insert(bytes.end(), {std::byte{0xAA}, std::byte{0xBB}, std::byte{0xCC}});
  AppendFullHeader(bytes, 1, 1);
  CM_PARTIAL_RESOURCE_DESCRIPTOR port{};
  port.Type = CmResourceTypePort;
  port.Flags = CM_RESOURCE_PORT_IO;
  port.u.Port.Start.QuadPart = 0x3F8;
  port.u.Port.Length = 8;
  Append(bytes, port);
  const irqsim::platform::GuardedBytes translated(bytes);
  const irqsim::platform::GuardedBytes untranslated(bytes);

  PRESOURCELIST list = nullptr;
  ASSERT_EQ(PcNewResourceList(&list, nullptr, NonPagedPool, GuardedAs<CM_RESOURCE_LIST>(translated),
                              GuardedAs<CM_RESOURCE_LIST>(untranslated)),
            STATUS_SUCCESS);
  EXPECT_EQ(list->NumberOfEntries(), 2u);
  ASSERT_NE(list->FindTranslatedPort(0), nullptr);
  EXPECT_EQ(std::memcmp(list->FindTranslatedPort(0), &port, sizeof(port)), 0);
  ASSERT_NE(list->FindUntranslatedDeviceSpecific(0), nullptr);
  EXPECT_EQ(list->FindUntranslatedDeviceSpecific(0)->u.DeviceSpecificData.DataSize, 0u) << "the data is not copied";
  EXPECT_EQ(list->Release(), 0u);
}

// resource_list_fuzzer: Mode 0xFF. INTERRUPTSYNCMODE had no fixed base, so only 0..3 were values
// of it and PcNewInterruptSync could not even compare another one without undefined behaviour
// (UndefinedBehaviorSanitizer: "load of value 255"). With an int base every value is one, and
// the documented STATUS_INVALID_PARAMETER follows.
TEST(FuzzRegressions, InterruptSyncModeOutsideTheEnumerationIsRejected) {
  Machine machine;
  irqsim::Device card = machine.plug({.name = "audio", .lines = {{.vector = 0x58, .irql = 6}}});
  PRESOURCELIST list = nullptr;
  ASSERT_EQ(PcNewResourceList(&list, nullptr, NonPagedPool, card.translated_resources(), card.raw_resources()),
            STATUS_SUCCESS);
  for (const int mode : {0xFF, -1, 0x7FFFFFFF}) {
    PINTERRUPTSYNC sync = nullptr;
    EXPECT_EQ(PcNewInterruptSync(&sync, nullptr, list, 0, static_cast<INTERRUPTSYNCMODE>(mode)),
              STATUS_INVALID_PARAMETER)
        << "mode " << mode;
    EXPECT_EQ(sync, nullptr);
  }
  EXPECT_EQ(list->Release(), 0u);
}

std::atomic<int> message_isr_calls{0};

BOOLEAN CountingMessageIsr(PKINTERRUPT, PVOID, ULONG) {
  message_isr_calls.fetch_add(1);
  return TRUE;
}

// api_sequence_fuzzer, seed message_table (a message signalled, its connection reported inactive
// and active again). An edge the processor accepted just before IoReportInterruptInactive took
// effect found every ISR of its chain inactive, was counted as unexpected and was gone, although
// an interrupt with no active ISR is documented to stay pending: the ISR never ran for it. A
// processor that keeps polling while idle accepts each edge at once, which makes that the usual
// order (without the fix the test usually fails within the first rounds). Now such a delivery
// is undone and the edge latched again.
TEST(FuzzRegressions, EdgeAcceptedAsItsConnectionGoesInactiveStaysPending) {
  Machine machine({.processors = 1, .idle_spin = std::chrono::milliseconds(1)});
  irqsim::Device device = machine.plug(
      {.name = "msix", .message_kind = irqsim::MessageKind::MsiX, .messages = {{.vector = 0x48, .irql = 7}}});
  PVOID table = nullptr;
  IO_CONNECT_INTERRUPT_PARAMETERS connect{};
  connect.Version = CONNECT_MESSAGE_BASED;
  connect.MessageBased.PhysicalDeviceObject = device.pdo();
  connect.MessageBased.ConnectionContext.Generic = &table;
  connect.MessageBased.MessageServiceRoutine = CountingMessageIsr;
  ASSERT_EQ(IoConnectInterruptEx(&connect), STATUS_SUCCESS);
  IO_REPORT_INTERRUPT_ACTIVE_STATE_PARAMETERS state{};
  state.Version = connect.Version;
  state.ConnectionContext.Generic = table;
  message_isr_calls = 0;
  for (int round = 1; round <= 200; ++round) {
    device.signal_message(0);
    IoReportInterruptInactive(&state);
    IoReportInterruptActive(&state);
    machine.wait_until_quiescent();
    ASSERT_EQ(message_isr_calls.load(), round) << machine.stats(0x48).to_string();
  }
  EXPECT_TRUE(irqsim::testing::accounting_adds_up(machine.stats(0x48)));
  IO_DISCONNECT_INTERRUPT_PARAMETERS disconnect{};
  disconnect.Version = connect.Version;
  disconnect.ConnectionContext.Generic = table;
  IoDisconnectInterruptEx(&disconnect);
}

}  // namespace
