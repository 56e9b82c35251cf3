// Trace::difference_from: whether two traces hold the same run, for the deterministic mode's
// promise that the same test with the same seed records the same trace, event for event.
//
// Two runs in one process may find their interrupt objects, DPCs and spin locks at other heap
// addresses, so address fields are compared up to a one-to-one renaming; anything else that
// differs is a different run.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include <fmt/format.h>

#include "irqsim/trace.hpp"

namespace irqsim {

namespace {

// Which of an event's fields hold addresses, by the table in TraceEvent.
struct AddressFields {
  bool subject = false;
  bool argument = false;
};

AddressFields address_fields(TraceEventKind kind) {
  switch (kind) {
    case TraceEventKind::IsrEnter:
    case TraceEventKind::DpcQueue:
    case TraceEventKind::DpcEnter:
    case TraceEventKind::DpcExit:
      return {.subject = true, .argument = true};
    // An IsrExit's argument is the ISR's return value, a LockAcquire's whether it waited.
    case TraceEventKind::IsrExit:
    case TraceEventKind::LockContend:
    case TraceEventKind::LockAcquire:
    case TraceEventKind::LockRelease:
      return {.subject = true, .argument = false};
    default:
      return {};
  }
}

// An event of this trace, by its track and its index there.
struct Place {
  const TraceTrack* track = nullptr;
  std::size_t index = 0;
};

std::string describe(Place place) { return fmt::format("event {} of {}", place.index, place.track->name); }

std::string describe(const TraceEvent& event) {
  return fmt::format("{} at {} ns (track {}, vector {:#x}, irql {}, subject {:#x}, argument {:#x})",
                     to_string(event.kind), event.time_ns, event.track, event.vector, event.irql, event.subject,
                     event.argument);
}

std::string describe(const TraceTrack& track) {
  return fmt::format("'{}' (id {}, processor {}, {} lost)", track.name, track.id,
                     track.processor ? fmt::to_string(*track.processor) : "none", track.lost);
}

// The pairing of this trace's addresses with the other's, kept both ways so that neither side
// can pair one address with two. Each pairing remembers where it was made, for the message when
// a later event breaks it.
class AddressPairing {
 public:
  // Pairs `mine` with `theirs`, or says which earlier pairing forbids it.
  std::optional<std::string> pair(std::uint64_t mine, std::uint64_t theirs, Place here) {
    if (const auto found = to_theirs_.find(mine); found != to_theirs_.end() && found->second.address != theirs) {
      return fmt::format("address {:#x} pairs with {:#x} earlier ({}) but with {:#x} here", mine,
                         found->second.address, describe(found->second.first_seen), theirs);
    }
    if (const auto found = to_mine_.find(theirs); found != to_mine_.end() && found->second.address != mine) {
      return fmt::format("the other trace's address {:#x} pairs with {:#x} earlier ({}) but with {:#x} here", theirs,
                         found->second.address, describe(found->second.first_seen), mine);
    }
    to_theirs_.try_emplace(mine, Partner{theirs, here});
    to_mine_.try_emplace(theirs, Partner{mine, here});
    return std::nullopt;
  }

 private:
  struct Partner {
    std::uint64_t address = 0;
    Place first_seen;
  };
  std::unordered_map<std::uint64_t, Partner> to_theirs_;
  std::unordered_map<std::uint64_t, Partner> to_mine_;
};

std::optional<std::string> event_difference(const TraceEvent& mine, const TraceEvent& theirs, Place here,
                                            AddressPairing& pairing) {
  const AddressFields addresses = address_fields(mine.kind);
  const bool same = mine.time_ns == theirs.time_ns && mine.kind == theirs.kind && mine.track == theirs.track &&
                    mine.vector == theirs.vector && mine.irql == theirs.irql &&
                    (addresses.subject || mine.subject == theirs.subject) &&
                    (addresses.argument || mine.argument == theirs.argument);
  if (!same) return fmt::format("{} differs: {} vs {}", describe(here), describe(mine), describe(theirs));
  std::optional<std::string> broken;
  if (addresses.subject) broken = pairing.pair(mine.subject, theirs.subject, here);
  if (!broken && addresses.argument) broken = pairing.pair(mine.argument, theirs.argument, here);
  if (broken) return fmt::format("{}: {}: {} vs {}", describe(here), *broken, describe(mine), describe(theirs));
  return std::nullopt;
}

}  // namespace

std::optional<std::string> Trace::difference_from(const Trace& other) const {
  if (tracks.size() != other.tracks.size()) {
    return fmt::format("track count differs ({} vs {})", tracks.size(), other.tracks.size());
  }
  AddressPairing pairing;
  for (std::size_t t = 0; t < tracks.size(); ++t) {
    const TraceTrack& mine = tracks[t];
    const TraceTrack& theirs = other.tracks[t];
    if (mine.id != theirs.id || mine.name != theirs.name || mine.processor != theirs.processor ||
        mine.lost != theirs.lost) {
      return fmt::format("track {} differs: {} vs {}", t, describe(mine), describe(theirs));
    }
    const std::size_t common = std::min(mine.events.size(), theirs.events.size());
    for (std::size_t i = 0; i < common; ++i) {
      if (auto difference = event_difference(mine.events[i], theirs.events[i], {&mine, i}, pairing)) return difference;
    }
    if (mine.events.size() != theirs.events.size()) {
      const TraceTrack& longer = mine.events.size() > common ? mine : theirs;
      return fmt::format("{} has {} events vs {}; the first extra one: {}", mine.name, mine.events.size(),
                         theirs.events.size(), describe(longer.events[common]));
    }
  }
  return std::nullopt;
}

}  // namespace irqsim
