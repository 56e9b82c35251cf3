// The audio adapter's traffic: the card plays wave periods and receives MIDI bytes in a seeded
// random mix while the miniport's stream side polls the service routines' progress from the
// machine's highest-numbered processor; then what the miniport counted against what the card
// produced. Uses line 0x58 only and leaves it unconnected and deasserted.
#pragma once

#include <irqsim/machine.hpp>

#include "scenario.hpp"

ScenarioResult run_audio_adapter(irqsim::Machine& machine);
