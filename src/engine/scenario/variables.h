// Per-user variables of the scenario executor (engine internal).
//
// Design: names are interned once, when a scenario is compiled, into a VariableTable that
// maps each distinct name (used by a template, set by an extraction, or a data-file column)
// to a small integer, its VarId. A user's Variables is then a vector indexed by VarId, so the
// hot path never hashes or compares a name: templates and extractors carry the ids they
// resolved at compile time. Names are only looked up by string on cold paths (tests, logs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace volley::engine::scenario {

using VarId = uint32_t;

// Longest accepted variable name.
inline constexpr size_t kMaxVariableName = 128;

// True if `name` can be a variable: 1 to kMaxVariableName characters, each an ASCII letter,
// digit, '_', '-' or '.'. (A data-file column with other characters, e.g. a space, is kept
// but cannot be referenced by ${...}.)
bool IsValidVariableName(std::string_view name);

// Name -> VarId for one compiled plan. Built while compiling (single thread), then
// immutable and shared read-only by every worker thread (const methods are thread-safe).
class VariableTable {
 public:
  // The id of `name`, adding it if new. Ids are dense: 0, 1, 2, ... in order of first use.
  VarId Intern(std::string_view name);
  // The id of `name`, or nullopt if it was never interned.
  std::optional<VarId> Find(std::string_view name) const;
  // The name of `id`; requires id < size().
  const std::string& Name(VarId id) const { return names_[id]; }
  size_t size() const { return names_.size(); }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, VarId> ids_;
};

// One virtual user's variable values, indexed by VarId. Setting a value reuses the slot's
// string capacity, so a warm user does not allocate for values no longer than before.
//
// Thread-safety: none; a Variables belongs to one user on one worker thread.
class Variables {
 public:
  Variables() = default;
  // Pre-sizes for every id of `table` (not required: Set grows as needed). The table is
  // only used for the name-based helpers below and must then outlive this object.
  explicit Variables(const VariableTable* table);

  // Sets variable `id` to a copy of `value`.
  void Set(VarId id, std::string_view value);
  // The value of `id`, or nullptr if it is unset (or out of range). The pointer stays
  // valid until the next Set of this id or Clear().
  const std::string* Get(VarId id) const {
    return id < slots_.size() && slots_[id].set ? &slots_[id].value : nullptr;
  }
  // Unsets every variable, keeping capacity (e.g. at the start of a scenario iteration).
  void Clear();

  // Name-based helpers for cold paths; they need the table given at construction. Set by a
  // name the table does not know returns false and sets nothing; Get returns nullptr.
  bool Set(std::string_view name, std::string_view value);
  const std::string* Get(std::string_view name) const;

 private:
  struct Slot {
    std::string value;
    bool set = false;
  };
  const VariableTable* table_ = nullptr;  // not owned; may be null
  std::vector<Slot> slots_;
};

}  // namespace volley::engine::scenario
