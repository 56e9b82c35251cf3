// Two different devices on one legacy level-triggered line: a network card and a serial port,
// each with its own plain-C driver (nic_driver.c, uart_driver.c) whose ISR claims only its own
// device's interrupts.
#pragma once

#include <irqsim/machine.hpp>

#include "scenario.hpp"

// The line both devices are wired to: vector 0x51 at IRQL 5, level-triggered and shareable.
inline const irqsim::LineInterruptConfig kSharedLine{.vector = 0x51, .irql = 5};

// Plugs both devices, starts both drivers, sends a few thousand seeded-random packets, link
// changes and serial bytes, checks that the drivers saw every one of them, and stops the
// drivers. Plugs new devices each time; uses no vector but kSharedLine's.
ScenarioResult run_shared_line(irqsim::Machine& machine);
