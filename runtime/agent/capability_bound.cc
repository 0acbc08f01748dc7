#include "runtime/agent/capability_bound.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "rest/sys/file_util.h"

namespace osb::agent {

uint64_t KeptCapabilities() {
  uint64_t mask = 0;
  for (int cap : {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_KILL, CAP_SETGID,
                  CAP_SETUID, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_SYS_CHROOT,
                  CAP_MKNOD, CAP_AUDIT_WRITE, CAP_SETFCAP}) {
    mask |= uint64_t{1} << cap;
  }
  return mask;
}

absl::Status BoundCapabilities() {
  int last = CAP_LAST_CAP;
  if (auto text = ReadFile("/proc/sys/kernel/cap_last_cap"); text.ok()) {
    (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &last);
  }
  const uint64_t kept = KeptCapabilities();
  for (int cap = 0; cap <= last; ++cap) {
    if ((kept >> cap) & 1) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      return ErrnoStatus(absl::StrCat("drop capability ", cap, " from the bounding set"), errno);
    }
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    return ErrnoStatus("clear the ambient capabilities", errno);
  }
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; ++i) {
    data[i].effective = data[i].permitted = static_cast<uint32_t>(kept >> (32 * i));
  }
  if (::syscall(SYS_capset, &header, data) != 0) return ErrnoStatus("capset", errno);
  return absl::OkStatus();
}

}  // namespace osb::agent
