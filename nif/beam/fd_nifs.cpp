// Descriptors handed from Erlang to Python (py:dup_fd/1, py_reactor_context:handoff/2).
//
// A descriptor Erlang got from inet:getfd/1 belongs to its port: Python must work on a
// duplicate, or the two would fight over it (and closing one would close both). dup_fd
// makes such a duplicate (close-on-exec) and remembers it; handoff_fd gives Python the
// descriptor it may own: a duplicate dup_fd made (taken over, so nothing leaks when the
// caller never closes it) or a fresh duplicate of anything else (the caller keeps its
// own). A remembered descriptor is recognised by its device and inode too, so a number
// reused for another file is not mistaken for it.
#include "nif/beam/fd_nifs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "nif/beam/arguments.hpp"
#include "nif/bridge/atoms.hpp"

namespace epy::nif {

namespace {

struct Duplicate {
  int fd;
  dev_t dev;
  ino_t ino;
};

std::mutex g_mutex;
std::vector<Duplicate> g_duplicates;  // made by dup_fd and not handed off yet

bool identity(int fd, dev_t* dev, ino_t* ino) {
  struct stat st;
  if (fstat(fd, &st) != 0) return false;
  *dev = st.st_dev;
  *ino = st.st_ino;
  return true;
}

// Locked: drops what no longer names the file it was made for (closed meanwhile).
void forget_stale() {
  std::vector<Duplicate> live;
  for (const Duplicate& d : g_duplicates) {
    dev_t dev;
    ino_t ino;
    if (identity(d.fd, &dev, &ino) && dev == d.dev && ino == d.ino) live.push_back(d);
  }
  g_duplicates.swap(live);
}

// {error, ebadf} and the like, as file and inet functions answer.
ERL_NIF_TERM posix_error(ErlNifEnv* env, int err) {
  const char* name = strerrorname_np(err);  // "EBADF"
  std::string atom = name ? name : "eunknown";
  for (char& c : atom) c = char(std::tolower(static_cast<unsigned char>(c)));
  return enif_make_tuple2(env, atoms.error, enif_make_atom(env, atom.c_str()));
}

int duplicate(int fd) { return fcntl(fd, F_DUPFD_CLOEXEC, 3); }

}  // namespace

// dup_fd(Fd) -> {ok, NewFd} | {error, Posix}
ERL_NIF_TERM nif_dup_fd(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  int fd;
  if (!get_fd(env, argv[0], &fd)) return badarg(env, "fd");
  const int copy = duplicate(fd);
  if (copy < 0) return posix_error(env, errno);
  Duplicate d{copy, 0, 0};
  if (identity(copy, &d.dev, &d.ino)) {
    std::lock_guard<std::mutex> lock(g_mutex);
    forget_stale();
    g_duplicates.push_back(d);
  }
  return enif_make_tuple2(env, atoms.ok, enif_make_int(env, copy));
}

// handoff_fd(Fd) -> {ok, FdForPython} | {error, Posix}: Fd itself when dup_fd made it,
// else a duplicate.
ERL_NIF_TERM nif_handoff_fd(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  int fd;
  if (!get_fd(env, argv[0], &fd)) return badarg(env, "fd");
  dev_t dev;
  ino_t ino;
  if (!identity(fd, &dev, &ino)) return posix_error(env, errno);
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    for (auto it = g_duplicates.begin(); it != g_duplicates.end(); ++it) {
      if (it->fd == fd && it->dev == dev && it->ino == ino) {
        g_duplicates.erase(it);
        return enif_make_tuple2(env, atoms.ok, enif_make_int(env, fd));
      }
    }
  }
  const int copy = duplicate(fd);
  if (copy < 0) return posix_error(env, errno);
  return enif_make_tuple2(env, atoms.ok, enif_make_int(env, copy));
}

// close_fd(Fd) -> ok | {error, Posix}: for a handoff that could not reach Python.
ERL_NIF_TERM nif_close_fd(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  int fd;
  if (!get_fd(env, argv[0], &fd)) return badarg(env, "fd");
  if (close(fd) != 0) return posix_error(env, errno);
  return atoms.ok;
}

}  // namespace epy::nif
