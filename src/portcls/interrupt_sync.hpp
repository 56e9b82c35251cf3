#pragma once
// IInterruptSync: the service routines of one interrupt of a resource list, connected as one
// ISR. Its critical section is the interrupt's: the descriptor's IRQL plus a spin lock the
// object owns and hands to IoConnectInterrupt, so CallSynchronizedRoutine enters the same
// critical section whether or not the interrupt is connected, and a driver's
// KeSynchronizeExecution on GetKInterrupt() does too.

#include <atomic>
#include <mutex>
#include <string_view>
#include <vector>

#include "portcls.h"
#include "portcls/com_object.hpp"

namespace irqsim::portcls {

class InterruptSync final : public ComObject<IInterruptSync> {
 public:
  // Takes a reference to `resources` (released when the object is destroyed); `interrupt` is
  // its translated descriptor, copied.
  InterruptSync(PRESOURCELIST resources, const CM_PARTIAL_RESOURCE_DESCRIPTOR& interrupt, INTERRUPTSYNCMODE mode);

  NTSTATUS CallSynchronizedRoutine(PINTERRUPTSYNCROUTINE Routine, PVOID DynamicContext) override;
  PKINTERRUPT GetKInterrupt() override;
  NTSTATUS Connect() override;
  void Disconnect() override;
  NTSTATUS RegisterServiceRoutine(PINTERRUPTSYNCROUTINE Routine, PVOID DynamicContext, BOOLEAN First) override;

 private:
  struct ServiceRoutine {
    PINTERRUPTSYNCROUTINE routine;
    PVOID context;
  };

  // The last Release: disconnects if still connected (IoDisconnectInterrupt's PASSIVE_LEVEL rule
  // applies), then deletes the object even if that bug-checked.
  void destroy() override;
  // Releases the resource list.
  ~InterruptSync() override;

  KIRQL enter_critical_section(std::string_view api);
  void leave_critical_section(KIRQL old_irql);
  // The ISR IoConnectInterrupt calls, at the interrupt's IRQL with lock_ held.
  static BOOLEAN service(PKINTERRUPT interrupt, PVOID context);
  // Calls the routines as the mode says; true if any returned STATUS_SUCCESS.
  bool call_service_routines(PKINTERRUPT interrupt);
  [[noreturn]] void report_repeat_storm(PKINTERRUPT interrupt, unsigned passes);
  void disconnect_locked();

  PRESOURCELIST resources_;
  CM_PARTIAL_RESOURCE_DESCRIPTOR descriptor_;
  KIRQL level_;
  INTERRUPTSYNCMODE mode_;
  KSPIN_LOCK lock_ = 0;
  // Read by the ISR inside the critical section; replaced only inside it, and only with
  // connection_mutex_ held.
  std::vector<ServiceRoutine> routines_;
  std::atomic<PKINTERRUPT> interrupt_{nullptr};
  // Serialises Connect, Disconnect and RegisterServiceRoutine (all PASSIVE_LEVEL).
  std::mutex connection_mutex_;
};

}  // namespace irqsim::portcls
