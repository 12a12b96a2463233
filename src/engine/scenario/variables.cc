#include "scenario/variables.h"

namespace volley::engine::scenario {

bool IsValidVariableName(std::string_view name) {
  if (name.empty() || name.size() > kMaxVariableName) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

VarId VariableTable::Intern(std::string_view name) {
  auto it = ids_.find(std::string(name));
  if (it != ids_.end()) return it->second;
  auto id = static_cast<VarId>(names_.size());
  names_.emplace_back(name);
  ids_.emplace(names_.back(), id);
  return id;
}

std::optional<VarId> VariableTable::Find(std::string_view name) const {
  auto it = ids_.find(std::string(name));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

Variables::Variables(const VariableTable* table) : table_(table) {
  if (table_ != nullptr) slots_.resize(table_->size());
}

void Variables::Set(VarId id, std::string_view value) {
  if (id >= slots_.size()) slots_.resize(size_t{id} + 1);
  Slot& slot = slots_[id];
  slot.value.assign(value.data(), value.size());
  slot.set = true;
}

void Variables::Clear() {
  for (Slot& slot : slots_) {
    slot.value.clear();
    slot.set = false;
  }
}

bool Variables::Set(std::string_view name, std::string_view value) {
  if (table_ == nullptr) return false;
  auto id = table_->Find(name);
  if (!id) return false;
  Set(*id, value);
  return true;
}

const std::string* Variables::Get(std::string_view name) const {
  if (table_ == nullptr) return nullptr;
  auto id = table_->Find(name);
  return id ? Get(*id) : nullptr;
}

}  // namespace volley::engine::scenario
