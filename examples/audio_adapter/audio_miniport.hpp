// An audio adapter's interrupt path as a port-class miniport writes it: one line shared by the
// wave and MIDI engines of the card, two service routines on one IInterruptSync, and the
// streaming side reading what they produced through CallSynchronizedRoutine.
#pragma once

#include <portcls.h>

#include <utility>

// The card's registers (offsets into its memory resource).
namespace audio_registers {
// Pending interrupt causes; writing a bit acknowledges (clears) it.
inline constexpr ULONG kStatus = 0x00;
inline constexpr ULONG kWavePeriodDone = 0x1;
inline constexpr ULONG kMidiByteReady = 0x2;
// The next byte received on the MIDI input (valid while kMidiByteReady is pending).
inline constexpr ULONG kMidiData = 0x04;
}  // namespace audio_registers

class AudioMiniport {
 public:
  // IRP_MN_START_DEVICE, the part port class leaves to the miniport: map the registers, make
  // the interrupt sync object for the card's interrupt, register both service routines, connect.
  NTSTATUS Start(PRESOURCELIST resources);
  // Disconnect and let everything go.
  void Stop();

  // The streaming side: what the service routines counted, read in their critical section.
  struct Progress {
    ULONG wave_periods;
    ULONG midi_bytes;
    ULONG midi_checksum;
  };
  Progress ReadProgress();

 private:
  static NTSTATUS WaveService(PINTERRUPTSYNC sync, PVOID context);
  static NTSTATUS MidiService(PINTERRUPTSYNC sync, PVOID context);
  static NTSTATUS CopyProgress(PINTERRUPTSYNC sync, PVOID context);
  ULONG Read(ULONG offset) const;
  void Acknowledge(ULONG cause);

  volatile ULONG* registers_ = nullptr;
  ULONG register_bytes_ = 0;
  PINTERRUPTSYNC sync_ = nullptr;
  // Written only by the service routines, read only by CopyProgress: all in the critical section.
  Progress progress_{};
};
