#include "scenario_program.h"

#include <algorithm>

#include "connection.h"
#include "volley/common/problems.h"
#include "volley/common/strings.h"

namespace volley::engine {
namespace {

// Every problem of the compilation, each prefixed with where it was written.
bool Check(Problems& problems, const auto& r, const std::string& origin, const std::string& what) {
  if (r) return true;
  problems.Add(origin, what + r.error().message);
  return false;
}

bool Named(const std::vector<config::KeyValue>& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return EqualsIgnoreCase(h.first, name); });
}

void CompileRequest(const config::TestPlan& plan, const config::Step& step,
                    scenario::VariableTable& table, CompiledStep& out, Problems& problems) {
  const std::string& at = step.origin;
  out.name = step.name;
  out.method = step.method;
  out.head = step.method == "HEAD";
  out.send_length = step.method == "POST" || step.method == "PUT" || step.method == "PATCH";
  if (auto t = scenario::Template::Compile(step.path, table); Check(problems, t, at, "path: ")) {
    out.path = std::move(*t);
  }
  if (auto q = scenario::QueryTemplate::Compile(step.query, table); Check(problems, q, at, "")) {
    out.query = std::move(*q);
  }
  if (auto b = scenario::Template::Compile(step.body, table); Check(problems, b, at, "body: ")) {
    out.body = std::move(*b);
  }
  // The plan's headers, unless the step sets the same name; then the step's.
  std::vector<config::KeyValue> headers;
  if (!Named(plan.custom_headers, "Host") && !Named(step.headers, "Host")) {
    headers.emplace_back("Host", plan.target.HostHeader());
  }
  if (!Named(plan.custom_headers, "User-Agent") && !Named(step.headers, "User-Agent")) {
    headers.emplace_back("User-Agent", "volley/0.1");
  }
  for (const auto& h : plan.custom_headers) {
    if (!Named(step.headers, h.first)) headers.push_back(h);
  }
  headers.insert(headers.end(), step.headers.begin(), step.headers.end());
  out.replayable = ReplayableRequest(
      step.method, Named(headers, "Idempotency-Key") || Named(headers, "X-Idempotency-Key"));
  for (const auto& [name, value] : headers) {
    if (EqualsIgnoreCase(name, "Content-Length")) continue;  // volley computes it
    auto t = scenario::Template::Compile(value, table);
    if (Check(problems, t, at, "headers." + name + ": ")) out.headers.emplace_back(name, *t);
  }
}

// A cluster node's part of a sequential data file: the rows r % count == index, in order,
// so that every row is used once across the cluster (config/plan_split.h).
void KeepSegmentRows(const config::Segment& segment, std::vector<std::vector<std::string>>& rows) {
  if (segment.whole()) return;
  size_t kept = 0;
  for (size_t r = segment.index; r < rows.size(); r += segment.count) {
    if (kept != r) rows[kept] = std::move(rows[r]);
    ++kept;
  }
  rows.resize(kept);
}

}  // namespace

bool ScenarioProgram::NoteOnce(const std::string& message) const {
  std::lock_guard<std::mutex> lock(mu_);
  return noted_.insert(message).second;
}

Result<std::unique_ptr<ScenarioProgram>> CompileScenarios(const config::TestPlan& plan) {
  auto program = std::make_unique<ScenarioProgram>();
  scenario::VariableTable& table = program->variables;
  Problems problems;
  std::vector<double> weights;
  for (const config::Scenario& spec : plan.scenarios) {
    CompiledScenario sc;
    sc.name = spec.name;
    sc.timeout = spec.timeout.count() > 0 ? spec.timeout : plan.request_timeout;
    sc.retries = spec.retry_count;
    sc.retry_delay = spec.retry_delay;
    // Variables this scenario can set: data-file columns and extractions.
    std::vector<scenario::VarId> defined;
    if (spec.data) {
      sc.data_path = spec.data->path;
      auto data = scenario::LoadDataFile(*spec.data);
      if (Check(problems, data, spec.origin, "dataFile: ")) {
        if (data->rows.empty()) {
          problems.Add(spec.origin, "dataFile: " + spec.data->path + " has no rows");
        }
        for (const std::string& column : data->columns) {
          sc.data_columns.push_back(table.Intern(column));
          defined.push_back(sc.data_columns.back());
        }
        if (spec.data->strategy == config::DataFile::Strategy::kSequential) {
          KeepSegmentRows(plan.segment, data->rows);
        }
        sc.data = std::make_unique<scenario::DataFeeder>(std::move(*data), spec.data->strategy);
      }
    }
    for (const config::Step& step : spec.steps) {
      CompiledStep st;
      CompileRequest(plan, step, table, st, problems);
      for (size_t i = 0; i < step.extract.size(); ++i) {
        auto x = scenario::Extractor::Compile(step.extract[i], table);
        if (Check(problems, x, step.origin, "extract[" + std::to_string(i) + "]: ")) {
          defined.push_back(x->variable());
          st.needs_body = st.needs_body || x->kind() == config::Extraction::Kind::kJsonPath ||
                          x->kind() == config::Extraction::Kind::kRegex;
          st.extract.push_back(std::move(*x));
        }
      }
      for (size_t i = 0; i < step.assertions.size(); ++i) {
        auto a = scenario::Assertion::Compile(step.assertions[i]);
        if (Check(problems, a, step.origin, "assertions[" + std::to_string(i) + "]: ")) {
          const auto kind = a->kind();
          st.needs_body = st.needs_body || kind == config::Assertion::Kind::kBodyContains ||
                          kind == config::Assertion::Kind::kBodyMatches ||
                          kind == config::Assertion::Kind::kJsonPath;
          st.assertions.push_back(std::move(*a));
        }
      }
      st.think = step.think;
      sc.steps.push_back(std::move(st));
    }
    // A reference nothing in the scenario can set is a mistake known in advance.
    for (size_t i = 0; i < sc.steps.size(); ++i) {
      const CompiledStep& st = sc.steps[i];
      std::vector<scenario::VarId> used = st.path.variable_ids();
      for (scenario::VarId id : st.query.variable_ids()) used.push_back(id);
      for (const auto& h : st.headers) {
        for (scenario::VarId id : h.second.variable_ids()) used.push_back(id);
      }
      for (scenario::VarId id : st.body.variable_ids()) used.push_back(id);
      for (scenario::VarId id : used) {
        if (std::find(defined.begin(), defined.end(), id) != defined.end()) continue;
        problems.Add(spec.steps[i].origin, "variable '" + table.Name(id) +
                                               "' is set by no extraction of scenario '" +
                                               spec.name + "' and is no column of its data file");
        defined.push_back(id);  // once per name
      }
    }
    weights.push_back(spec.weight);
    program->scenarios.push_back(std::move(sc));
  }
  if (!problems.empty()) return tl::unexpected(problems.ToError());
  auto picker = scenario::WeightedPicker::Create(weights);
  if (!picker)
    return MakeError(ErrorCode::kInvalidArgument, "scenarios: " + picker.error().message);
  program->picker = std::move(*picker);
  return program;
}

}  // namespace volley::engine
