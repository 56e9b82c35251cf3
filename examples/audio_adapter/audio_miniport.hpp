// An audio adapter's interrupt path as a port-class miniport writes it: one line shared by the
// wave and MIDI engines of the card, two service routines on one IInterruptSync, and the
// streaming side reading what they produced through CallSynchronizedRoutine.
#pragma once

#include <portcls.h>

class AudioMiniport {
 public:
  // IRP_MN_START_DEVICE, the part port class leaves to the miniport: map the registers, make
  // the interrupt sync object for the card's interrupt, register both service routines, connect.
  // Returns the first failing status (port class's own when the list has no interrupt) with
  // nothing left mapped or connected. PASSIVE_LEVEL.
  NTSTATUS Start(PRESOURCELIST resources);
  // Disconnect and let everything go; nothing if not started. PASSIVE_LEVEL.
  void Stop();

  // The streaming side: what the service routines counted, read in their critical section.
  // While started, at or below the card's DIRQL.
  struct Progress {
    ULONG wave_periods;
    ULONG midi_bytes;
    ULONG midi_checksum;  // sum of the bytes received
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
  // Written only by the service routines, read only by CopyProgress: all in the critical
  // section, so a reader never sees a byte counted without its checksum.
  Progress progress_{};
};
