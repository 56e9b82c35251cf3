#include "audio_miniport.hpp"

#include <utility>

#include "audio_registers.hpp"

NTSTATUS AudioMiniport::Start(PRESOURCELIST resources) {
  PCM_PARTIAL_RESOURCE_DESCRIPTOR memory = resources->FindTranslatedMemory(0);
  if (memory == nullptr) return STATUS_INSUFFICIENT_RESOURCES;
  register_bytes_ = memory->u.Memory.Length;
  registers_ = static_cast<volatile ULONG*>(
      MmMapIoSpaceEx(memory->u.Memory.Start, register_bytes_, PAGE_READWRITE | PAGE_NOCACHE));
  if (registers_ == nullptr) return STATUS_INSUFFICIENT_RESOURCES;

  // Normal mode: the routines run in order until one services the card, and the line (level
  // triggered) brings the interrupt back while another cause is still pending. Registers are
  // mapped first because a routine can run before Connect returns (the line may be asserted
  // already). A list without an interrupt is port class's to refuse.
  NTSTATUS status = PcNewInterruptSync(&sync_, nullptr, resources, 0, InterruptSyncModeNormal);
  if (NT_SUCCESS(status)) status = sync_->RegisterServiceRoutine(WaveService, this, FALSE);
  if (NT_SUCCESS(status)) status = sync_->RegisterServiceRoutine(MidiService, this, FALSE);
  if (NT_SUCCESS(status)) status = sync_->Connect();
  if (!NT_SUCCESS(status)) Stop();
  return status;
}

void AudioMiniport::Stop() {
  if (sync_ != nullptr) {
    sync_->Disconnect();
    sync_->Release();
    sync_ = nullptr;
  }
  if (registers_ != nullptr) {
    MmUnmapIoSpace(const_cast<ULONG*>(registers_), register_bytes_);
    registers_ = nullptr;
  }
}

ULONG AudioMiniport::Read(ULONG offset) const {
  return READ_REGISTER_ULONG(registers_ + offset / sizeof(ULONG));
}

void AudioMiniport::Acknowledge(ULONG cause) {
  WRITE_REGISTER_ULONG(registers_ + audio_registers::kStatus / sizeof(ULONG), cause);
}

NTSTATUS AudioMiniport::WaveService(PINTERRUPTSYNC, PVOID context) {
  auto* self = static_cast<AudioMiniport*>(context);
  if ((self->Read(audio_registers::kStatus) & audio_registers::kWavePeriodDone) == 0) return STATUS_UNSUCCESSFUL;
  self->Acknowledge(audio_registers::kWavePeriodDone);
  ++self->progress_.wave_periods;
  return STATUS_SUCCESS;
}

NTSTATUS AudioMiniport::MidiService(PINTERRUPTSYNC, PVOID context) {
  auto* self = static_cast<AudioMiniport*>(context);
  if ((self->Read(audio_registers::kStatus) & audio_registers::kMidiByteReady) == 0) return STATUS_UNSUCCESSFUL;
  const ULONG byte = self->Read(audio_registers::kMidiData);
  self->Acknowledge(audio_registers::kMidiByteReady);
  ++self->progress_.midi_bytes;
  self->progress_.midi_checksum += byte;
  return STATUS_SUCCESS;
}

NTSTATUS AudioMiniport::CopyProgress(PINTERRUPTSYNC, PVOID context) {
  auto* copy = static_cast<std::pair<AudioMiniport*, Progress*>*>(context);
  *copy->second = copy->first->progress_;
  return STATUS_SUCCESS;
}

AudioMiniport::Progress AudioMiniport::ReadProgress() {
  Progress progress{};
  std::pair<AudioMiniport*, Progress*> copy{this, &progress};
  sync_->CallSynchronizedRoutine(CopyProgress, &copy);
  return progress;
}
