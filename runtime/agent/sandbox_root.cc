#include "runtime/agent/sandbox_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "rest/sys/file_util.h"
#include "rest/sys/unique_fd.h"
#include "runtime/common/host_base.h"

namespace osb::agent {
namespace {

absl::Status Mount(const std::string& source, const std::string& target, const char* type,
                   unsigned long flags, const std::string& data = "") {
  if (::mount(source.c_str(), target.c_str(), type, flags,
              data.empty() ? nullptr : data.c_str()) != 0) {
    return ErrnoStatus(absl::StrCat("mount ", source, " on ", target), errno);
  }
  return absl::OkStatus();
}

// A read-only bind. In a user namespace the remount must keep the flags the kernel locked on the
// source mount (nosuid, nodev, noexec, atime), or it fails with EPERM.
absl::Status BindReadOnly(const std::string& source, const std::string& target) {
  if (auto s = Mount(source, target, nullptr, MS_BIND | MS_REC); !s.ok()) return s;
  struct statvfs vfs {};
  if (::statvfs(target.c_str(), &vfs) != 0) return ErrnoStatus("statvfs " + target, errno);
  unsigned long locked = 0;
  if (vfs.f_flag & ST_NOSUID) locked |= MS_NOSUID;
  if (vfs.f_flag & ST_NODEV) locked |= MS_NODEV;
  if (vfs.f_flag & ST_NOEXEC) locked |= MS_NOEXEC;
  if (vfs.f_flag & ST_NOATIME) locked |= MS_NOATIME;
  if (vfs.f_flag & ST_NODIRATIME) locked |= MS_NODIRATIME;
  if (vfs.f_flag & ST_RELATIME) locked |= MS_RELATIME;
  return Mount("", target, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | locked);
}

// openat2 without following any symlink (beneath `dir` when it is not AT_FDCWD).
UniqueFd OpenNoSymlinks(int dir, const std::string& path, uint64_t flags) {
  open_how how{};
  how.flags = flags | O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | (dir == AT_FDCWD ? 0 : RESOLVE_BENEATH);
  return UniqueFd(static_cast<int>(::syscall(SYS_openat2, dir, path.c_str(), &how, sizeof how)));
}

// Binds the volume's host path at its place under `root`. Neither side follows a symlink: a link
// put in the host path after osb-runtime resolved it, or one in the sandbox's image along the
// mount path, fails the sandbox's start instead of leading elsewhere.
absl::Status MountVolume(const std::string& root, const runtime::VolumeMount& v) {
  UniqueFd source = OpenNoSymlinks(AT_FDCWD, v.source, 0);
  if (!source.valid()) return ErrnoStatus("open volume source " + v.source, errno);
  struct stat st {};
  if (::fstat(source.get(), &st) != 0) return ErrnoStatus("stat " + v.source, errno);
  UniqueFd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return ErrnoStatus("open " + root, errno);
  std::vector<std::string> parts = absl::StrSplit(v.target, '/', absl::SkipEmpty());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    const bool directory = i + 1 < parts.size() || S_ISDIR(st.st_mode);
    if (directory) {
      if (::mkdirat(dir.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoStatus(absl::StrCat("make the mount point ", v.target), errno);
      }
    } else {
      UniqueFd file(::openat(dir.get(), part.c_str(),
                             O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
      if (!file.valid()) {
        return ErrnoStatus(absl::StrCat("make the mount point ", v.target), errno);
      }
    }
    UniqueFd next = OpenNoSymlinks(dir.get(), part, directory ? O_DIRECTORY : 0);
    if (!next.valid()) {
      return ErrnoStatus(absl::StrCat("mount point ", v.target,
                                      errno == ELOOP ? " (it crosses a symlink)" : ""),
                         errno);
    }
    dir = std::move(next);
  }
  const std::string from = absl::StrCat("/proc/self/fd/", source.get());
  const std::string target = root + v.target;
  if (v.read_only) return BindReadOnly(from, target);
  return Mount(from, target, nullptr, MS_BIND | MS_REC);
}

absl::Status MountDev(const std::string& dev) {
  if (auto s = Mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=1m"); !s.ok()) {
    return s;
  }
  for (const char* node : {"null", "zero", "full", "random", "urandom", "tty"}) {
    std::string target = absl::StrCat(dev, "/", node);
    UniqueFd fd(::open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666));
    if (!fd.valid()) return ErrnoStatus("create " + target, errno);
    if (auto s = Mount(absl::StrCat("/dev/", node), target, nullptr, MS_BIND); !s.ok()) return s;
  }
  for (const auto& [name, target] :
       {std::pair{"fd", "/proc/self/fd"}, std::pair{"stdin", "/proc/self/fd/0"},
        std::pair{"stdout", "/proc/self/fd/1"}, std::pair{"stderr", "/proc/self/fd/2"},
        std::pair{"ptmx", "pts/ptmx"}}) {
    std::string link = absl::StrCat(dev, "/", name);
    if (::symlink(target, link.c_str()) != 0) return ErrnoStatus("symlink " + link, errno);
  }
  for (const char* dir : {"pts", "shm"}) {
    std::string path = absl::StrCat(dev, "/", dir);
    if (::mkdir(path.c_str(), 0755) != 0) return ErrnoStatus("mkdir " + path, errno);
  }
  if (auto s = Mount("devpts", dev + "/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                     "newinstance,ptmxmode=0666,mode=620");
      !s.ok()) {
    return s;
  }
  return Mount("shm", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m");
}

}  // namespace

absl::Status EnterSandboxRoot(const SandboxRootSpec& spec,
                              const std::function<absl::Status()>& before_pivot) {
  // Nothing mounted from here on may propagate back to the host.
  if (auto s = Mount("", "/", nullptr, MS_REC | MS_PRIVATE); !s.ok()) return s;

  const std::string root = spec.sandbox_dir + "/rootfs";
  if (auto s = Mount("overlay", root, "overlay", 0,
                     absl::StrCat("lowerdir=", spec.base_dir, ",upperdir=", spec.sandbox_dir,
                                  "/upper,workdir=", spec.sandbox_dir, "/work,userxattr"));
      !s.ok()) {
    return s;
  }
  if (spec.bind_host_dirs) {
    for (const std::string& dir : HostBaseBindDirs()) {
      if (auto s = BindReadOnly(dir, root + dir); !s.ok()) return s;
    }
  }
  // An image's rootfs need not have the mount points (they land in the sandbox's upper layer).
  for (const char* dir : {"/proc", "/dev", "/tmp"}) {
    const std::string path = root + dir;
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus("mkdir " + path, errno);
    }
  }
  if (auto s = Mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC); !s.ok()) {
    return s;
  }
  if (auto s = MountDev(root + "/dev"); !s.ok()) return s;
  const std::string tmp_options =
      spec.tmp_bytes.has_value() ? absl::StrCat("mode=1777,size=", *spec.tmp_bytes) : "mode=1777";
  if (auto s = Mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, tmp_options.c_str());
      !s.ok()) {
    return s;
  }
  for (const runtime::VolumeMount& volume : spec.volumes) {
    if (auto s = MountVolume(root, volume); !s.ok()) return s;
  }
  if (auto s = before_pivot(); !s.ok()) return s;

  // pivot_root(".", ".") stacks the old root under the new one; detaching it leaves only ours.
  if (::chdir(root.c_str()) != 0) return ErrnoStatus("chdir " + root, errno);
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return ErrnoStatus("pivot_root", errno);
  if (::umount2(".", MNT_DETACH) != 0) return ErrnoStatus("detach the host root", errno);
  if (::chdir("/") != 0) return ErrnoStatus("chdir /", errno);

  if (::sethostname(spec.hostname.data(), spec.hostname.size()) != 0) {
    return ErrnoStatus("sethostname", errno);
  }
  return absl::OkStatus();
}

absl::Status BringUpLoopback() {
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return ErrnoStatus("socket", errno);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) != 0) return ErrnoStatus("SIOCGIFFLAGS lo", errno);
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) != 0) return ErrnoStatus("SIOCSIFFLAGS lo", errno);
  return absl::OkStatus();
}

}  // namespace osb::agent
