#pragma once
/// @file
/// @brief x64 interrupt request levels (IRQLs) as the simulator uses them.

#include <cstdint>

namespace irqsim {

/// @brief An interrupt request level, the x64 `KIRQL` (0..15).
using Irql = std::uint8_t;

/// @brief Named x64 IRQL values (wdm.h, `_AMD64_`).
namespace irql {
/// @brief Normal thread execution; every interrupt can be taken.
inline constexpr Irql kPassive = 0;
/// @brief Asynchronous procedure calls are masked.
inline constexpr Irql kApc = 1;
/// @brief DPCs and the thread dispatcher are masked; spin locks are held here.
inline constexpr Irql kDispatch = 2;
/// @brief Lowest device IRQL (DIRQL).
inline constexpr Irql kDeviceLowest = 3;
/// @brief Highest device IRQL (DIRQL).
inline constexpr Irql kDeviceHighest = 12;
/// @brief Clock interrupt level.
inline constexpr Irql kClock = 13;
/// @brief Inter-processor interrupt and power-fail level.
inline constexpr Irql kIpi = 14;
/// @brief Everything is masked.
inline constexpr Irql kHigh = 15;
}  // namespace irql

}  // namespace irqsim
