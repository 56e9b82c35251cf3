#pragma once
// The msix_queues scenario: the queue driver on a four-queue MSI-X card, then the same driver on
// a card that offers only its line interrupt, so IoConnectInterruptEx falls back to the driver's
// line ISR. Seeded-random completions on both; the driver's counts against the hardware's.

#include <irqsim/machine.hpp>

#include <functional>

#include "queue_card.hpp"
#include "queue_driver.h"
#include "scenario.hpp"

// Called for each card while its driver is started, before any traffic: the moment to look at
// what IoConnectInterruptEx connected.
using StartedDriver = std::function<void(const QueueCard& card, const QUEUE_EXTENSION& extension)>;

// Plugs both cards, runs them one after the other and stops both drivers again. Uses only the
// messages on vectors 0x70..0x73 and the line 0x53 (IRQL 5); needs at least two processors.
ScenarioResult run_msix_queues(irqsim::Machine& machine, const StartedDriver& on_started = {});
