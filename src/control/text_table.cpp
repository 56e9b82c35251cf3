#include "control/text_table.hpp"

#include <algorithm>
#include <numeric>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace irqsim::control {

namespace {

constexpr std::size_t kGap = 2;
constexpr std::string_view kEllipsis = "...";
// A clipped cell keeps enough to be recognised ("nic line 0,...").
constexpr std::size_t kShrunkWidth = 14;

}  // namespace

TextTable::TextTable(std::vector<Column> columns, std::size_t key_columns)
    : columns_(std::move(columns)), key_columns_(key_columns) {}

void TextTable::add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

std::vector<std::string> TextTable::lines(std::size_t max_width) const {
  const std::vector<std::size_t> width = widths(max_width);
  std::vector<std::string> headers;
  for (const Column& column : columns_) headers.push_back(column.header);

  std::vector<std::size_t> keys(key_columns_);
  std::iota(keys.begin(), keys.end(), std::size_t{0});
  std::size_t keys_width = 0;
  for (std::size_t key : keys) keys_width += width[key] + kGap;

  std::vector<std::string> text;
  std::size_t next = key_columns_;
  while (next < columns_.size()) {
    std::vector<std::size_t> shown = keys;
    std::size_t used = keys_width;
    do {
      used += width[next] + kGap;
      shown.push_back(next++);
    } while (next < columns_.size() && used + width[next] <= max_width);

    if (!text.empty()) text.emplace_back();
    text.push_back(line(headers, shown, width));
    for (const std::vector<std::string>& row : rows_) text.push_back(line(row, shown, width));
  }
  return text;
}

std::vector<std::size_t> TextTable::widths(std::size_t max_width) const {
  std::vector<std::size_t> width;
  for (const Column& column : columns_) width.push_back(column.header.size());
  for (const std::vector<std::string>& row : rows_) {
    for (std::size_t column = 0; column < columns_.size(); ++column) {
      width[column] = std::max(width[column], row[column].size());
    }
  }
  const std::size_t one_block = std::accumulate(width.begin(), width.end(), std::size_t{0}) +
                                kGap * (columns_.size() - 1);
  std::size_t excess = one_block > max_width ? one_block - max_width : 0;
  for (std::size_t column = 0; column < columns_.size(); ++column) {
    const std::size_t floor = std::max(kShrunkWidth, columns_[column].header.size());
    if (!columns_[column].shrinks || width[column] <= floor) continue;
    const std::size_t cut = std::min(excess, width[column] - floor);
    width[column] -= cut;
    excess -= cut;
  }
  return width;
}

std::string TextTable::line(const std::vector<std::string>& cells, const std::vector<std::size_t>& shown,
                            const std::vector<std::size_t>& widths) const {
  std::string text;
  for (std::size_t column : shown) {
    if (column != shown.front()) text.append(kGap, ' ');
    std::string cell = cells[column];
    if (cell.size() > widths[column]) cell = cell.substr(0, widths[column] - kEllipsis.size()) + std::string(kEllipsis);
    text += columns_[column].align == Align::Left ? fmt::format("{:<{}}", cell, widths[column])
                                                  : fmt::format("{:>{}}", cell, widths[column]);
  }
  // A left-aligned last column pads short cells out to its width.
  text.erase(text.find_last_not_of(' ') + 1);
  return text;
}

}  // namespace irqsim::control
