#pragma once
// A plain-text table for the reports: each column as wide as its widest cell, two spaces between
// columns, and no line wider than a terminal. A table too wide for that first clips the cells of
// its shrinkable columns (free text such as a vector's source) and then, if it must, is cut into
// blocks of columns, one under the other, each opening with the key columns so that every row
// can still be told apart.

#include <cstddef>
#include <string>
#include <vector>

namespace irqsim::control {

class TextTable {
 public:
  enum class Align { Left, Right };
  struct Column {
    std::string header;
    Align align;
    // Whether its cells may be clipped, ending in "...", to keep the columns in one block.
    bool shrinks = false;
  };

  // The first `key_columns` columns name a row (a vector, a processor); at least one column
  // must follow them.
  TextTable(std::vector<Column> columns, std::size_t key_columns);

  // One cell per column.
  void add_row(std::vector<std::string> cells);

  // The header and rows of each block, blocks separated by an empty line. A block holds at
  // least one column past the keys, so only keys wider than `max_width` make a longer line.
  [[nodiscard]] std::vector<std::string> lines(std::size_t max_width) const;

 private:
  [[nodiscard]] std::vector<std::size_t> widths(std::size_t max_width) const;
  [[nodiscard]] std::string line(const std::vector<std::string>& cells, const std::vector<std::size_t>& shown,
                                 const std::vector<std::size_t>& widths) const;

  std::vector<Column> columns_;
  std::size_t key_columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace irqsim::control
