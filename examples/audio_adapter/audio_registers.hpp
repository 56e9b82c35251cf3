// The audio card's registers, as the miniport and the card model both know them: offsets into
// the card's memory resource and the bits of its status register.
#pragma once

#include <wdm.h>

namespace audio_registers {
// Pending interrupt causes. The line is asserted while any bit is set; writing a bit
// acknowledges one event of that cause (the bit stays set while more are pending).
inline constexpr ULONG kStatus = 0x00;
inline constexpr ULONG kWavePeriodDone = 0x1;
inline constexpr ULONG kMidiByteReady = 0x2;
// The capture engine finished a period. The miniport drives playback and MIDI input only, so
// a card raising this cause is one whose interrupt nobody services.
inline constexpr ULONG kCapturePeriodDone = 0x4;
// The oldest byte received on the MIDI input (valid while kMidiByteReady is set).
inline constexpr ULONG kMidiData = 0x04;
// The size of the register block.
inline constexpr ULONG kBytes = 0x100;
}  // namespace audio_registers
