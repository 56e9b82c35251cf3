#pragma once
// What a processor does when it takes an interrupt: accept the vector, run the interrupt
// objects connected for it on this processor under their locks and IRQLs, signal end of
// interrupt. Called at every preemption point of a processor.

namespace irqsim::core {

class ExecutionContext;

// Takes every interrupt pending for the context's processor above its current IRQL (nested
// ones included). Does nothing for a thread that is not a processor.
void take_pending_interrupts(ExecutionContext& context);
// The same from a processor's idle loop, where passive-level interrupts are taken too.
void take_pending_interrupts_when_idle(ExecutionContext& context);

}  // namespace irqsim::core
