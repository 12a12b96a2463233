// Process-level test helper: runs a program with a controlled environment, captures its
// stdout and stderr in temporary files, sends it signals and waits for it with a deadline
// (killing it when the deadline passes). Header-only; Linux.
//
// Threads: a Subprocess is confined to the thread that spawned it (PR_SET_PDEATHSIG ties
// the child's life to that thread, so a crashed or killed test leaves no server behind).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace volley::testing {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/volley_cli_test.XXXXXX";
    if (mkdtemp(templ.data()) != nullptr) path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The whole content of a file ("" when it cannot be read).
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Calls `cond` every `step` until it returns true (→ true) or `timeout` passes (→ false,
// after one last call).
inline bool PollUntil(const std::function<bool()>& cond, milliseconds timeout,
                      milliseconds step = milliseconds(10)) {
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    if (cond()) return true;
    if (SteadyClock::now() >= deadline) return cond();
    std::this_thread::sleep_for(step);
  }
}

// How a child ended.
struct ExitStatus {
  bool exited = false;  // it called exit(): `code` holds the status
  int code = -1;
  int signal = 0;          // it was killed by this signal
  bool timed_out = false;  // the deadline passed and the helper killed it with SIGKILL

  bool Exited(int want) const { return exited && code == want; }
  std::string Describe() const {
    if (timed_out) return "timed out (killed)";
    if (exited) return "exit " + std::to_string(code);
    return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  }
};

// The child's environment: the parent's, minus `unset`, plus `set` (which wins).
struct Env {
  std::vector<std::string> unset;
  std::map<std::string, std::string> set;
};

class Subprocess {
 public:
  // Starts argv[0] (a path, not searched in PATH) with `env`; stdin is /dev/null, stdout
  // and stderr go to files in a private temporary directory. SIGINT, SIGTERM, SIGPIPE,
  // SIGHUP, SIGQUIT and SIGUSR1 are reset to their defaults and no signal is blocked, so a
  // test runner that ignores SIGINT (a background job) does not change the child. Returns
  // nullptr and sets `*error` when the directory, the fork or the exec fails.
  static std::unique_ptr<Subprocess> Spawn(const std::vector<std::string>& argv, const Env& env,
                                           std::string* error) {
    std::unique_ptr<Subprocess> p(new Subprocess);
    if (argv.empty()) return Fail(error, "empty argv");
    if (!p->dir_.ok()) return Fail(error, std::string("mkdtemp: ") + strerror(errno));
    for (const auto& a : argv) p->command_ += (p->command_.empty() ? "" : " ") + a;

    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry(*e);
      const std::string name = entry.substr(0, entry.find('='));
      bool drop = env.set.count(name) > 0;
      for (const auto& u : env.unset) drop = drop || u == name;
      if (!drop) env_strings.push_back(std::move(entry));
    }
    for (const auto& [name, value] : env.set) env_strings.push_back(name + "=" + value);
    std::vector<char*> c_argv, c_env;
    for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
    c_argv.push_back(nullptr);
    for (const auto& e : env_strings) c_env.push_back(const_cast<char*>(e.c_str()));
    c_env.push_back(nullptr);

    const int out = open(p->OutPath().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int err = open(p->ErrPath().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int status_pipe[2] = {-1, -1};  // carries errno when exec fails; EOF when it succeeds
    if (out < 0 || err < 0 || in < 0 || pipe2(status_pipe, O_CLOEXEC) != 0) {
      const std::string why = std::string("open/pipe: ") + strerror(errno);
      for (int fd : {out, err, in, status_pipe[0], status_pipe[1]}) {
        if (fd >= 0) close(fd);
      }
      return Fail(error, why);
    }
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid == 0) {
      // Child: async-signal-safe calls only.
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT, SIGUSR1}) {
        sigaction(sig, &dfl, nullptr);
      }
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
        const int e = errno;
        [[maybe_unused]] ssize_t w = write(status_pipe[1], &e, sizeof e);
        _exit(127);
      }
      execve(c_argv[0], c_argv.data(), c_env.data());
      const int e = errno;
      [[maybe_unused]] ssize_t w = write(status_pipe[1], &e, sizeof e);
      _exit(127);
    }
    const int fork_errno = errno;
    for (int fd : {out, err, in, status_pipe[1]}) close(fd);
    if (pid < 0) {
      close(status_pipe[0]);
      return Fail(error, std::string("fork: ") + strerror(fork_errno));
    }
    p->pid_ = pid;
    int exec_errno = 0;
    ssize_t n;
    do {
      n = read(status_pipe[0], &exec_errno, sizeof exec_errno);
    } while (n < 0 && errno == EINTR);
    close(status_pipe[0]);
    if (n > 0) {
      p->Wait(milliseconds(5000));
      return Fail(error, "exec " + argv[0] + ": " + strerror(exec_errno));
    }
    return p;
  }

  // Kills the child with SIGKILL if it is still running, reaps it, removes the files.
  ~Subprocess() {
    if (!status_) Wait(milliseconds(0));
  }
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& command() const { return command_; }

  // Sends `sig`. False when the child was already reaped (or kill fails).
  bool Signal(int sig) { return !status_ && kill(pid_, sig) == 0; }

  // Waits up to `timeout` for the child to end. Nullopt when it is still running then.
  std::optional<ExitStatus> TryWait(milliseconds timeout) {
    if (status_) return status_;
    const auto deadline = SteadyClock::now() + timeout;
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
    for (;;) {
      int raw = 0;
      const pid_t r = waitpid(pid_, &raw, WNOHANG);
      if (r == pid_) {
        ExitStatus s;
        s.exited = WIFEXITED(raw);
        s.code = s.exited ? WEXITSTATUS(raw) : -1;
        s.signal = WIFSIGNALED(raw) ? WTERMSIG(raw) : 0;
        status_ = s;
        break;
      }
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
      if (r < 0 || left.count() <= 0) break;
      if (pidfd >= 0) {
        pollfd pfd{pidfd, POLLIN, 0};
        poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
      } else {
        std::this_thread::sleep_for(std::min(left, milliseconds(5)));
      }
    }
    if (pidfd >= 0) close(pidfd);
    return status_;
  }

  // Waits up to `timeout`; past it, kills the child (SIGKILL), reaps it and reports
  // timed_out.
  ExitStatus Wait(milliseconds timeout) {
    if (auto s = TryWait(timeout)) return *s;
    kill(pid_, SIGKILL);
    ExitStatus s = TryWait(milliseconds(10'000)).value_or(ExitStatus{});
    s.timed_out = true;
    status_ = s;
    return s;
  }

  bool running() { return !TryWait(milliseconds(0)).has_value(); }

  std::string Stdout() const { return ReadFile(OutPath()); }
  std::string Stderr() const { return ReadFile(ErrPath()); }

  // Polls stderr every `step` until `pred` holds (→ true). False when `timeout` passes or
  // the child ends first without `pred` holding.
  bool WaitForStderr(const std::function<bool(const std::string&)>& pred, milliseconds timeout,
                     milliseconds step = milliseconds(10)) {
    bool held = false;
    PollUntil(
        [&] {
          held = pred(Stderr());
          return held || !running();  // an ended child will write no more
        },
        timeout, step);
    return held || pred(Stderr());
  }

  // Everything a failed assertion should show.
  std::string Diagnostics() const {
    return "command: " + command_ + "\n--- stdout ---\n" + Stdout() + "\n--- stderr ---\n" +
           Stderr();
  }

 private:
  Subprocess() = default;
  static std::unique_ptr<Subprocess> Fail(std::string* error, const std::string& why) {
    if (error) *error = why;
    return nullptr;
  }
  std::string OutPath() const { return dir_.File("stdout"); }
  std::string ErrPath() const { return dir_.File("stderr"); }

  TempDir dir_;
  std::string command_;
  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
};

}  // namespace volley::testing
