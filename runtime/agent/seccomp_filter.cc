#include "runtime/agent/seccomp_filter.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "rest/string_views.h"

namespace osb::agent {

const std::vector<std::string_view>& BlockedSyscalls() {
  static const auto* const kBlocked = new std::vector<std::string_view>{
      // the kernel itself: modules, kexec, reboot, swap, accounting, the clock, bpf, perf
      "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
      "swapon", "swapoff", "acct", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
      "bpf", "perf_event_open", "lookup_dcookie", "quotactl", "nfsservctl", "syslog", "vhangup",
      "iopl", "ioperm", "uselib", "ustat", "sysfs", "_sysctl",
      // the kernel keyring
      "keyctl", "add_key", "request_key",
      // mounts and namespaces: the agent built the sandbox's; nothing inside changes them
      "mount", "umount2", "pivot_root", "setns", "fsopen", "fsconfig", "fsmount", "fspick",
      "move_mount", "open_tree", "mount_setattr",
      // file handles bypass path checks; userfaultfd and NUMA calls are exploit aids
      "open_by_handle_at", "name_to_handle_at", "userfaultfd", "mbind", "set_mempolicy",
      "move_pages", "kcmp", "process_vm_readv", "process_vm_writev"};
  return *kBlocked;
}

absl::Status InstallSeccompFilter() {
  std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(seccomp_init(SCMP_ACT_ALLOW),
                                                       seccomp_release);
  if (ctx == nullptr) return absl::InternalError("seccomp_init failed");
  auto failed = [](std::string_view what, int rc) {
    return absl::InternalError(absl::StrCat("seccomp: ", rest::AbslView(what), ": error ", -rc));
  };
  // Every thread of the agent, not only this one: the command registry's already runs.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1); rc != 0) {
    return failed("tsync", rc);
  }
  for (std::string_view name : BlockedSyscalls()) {
    const int nr = seccomp_syscall_resolve_name(std::string(name).c_str());
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), nr, 0); rc != 0) {
      return failed(name, rc);
    }
  }
  const scmp_datum_t user = CLONE_NEWUSER;
  for (int nr : {SCMP_SYS(clone), SCMP_SYS(unshare)}) {
    if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), nr, 1,
                                  SCMP_A0(SCMP_CMP_MASKED_EQ, user, user));
        rc != 0) {
      return failed("clone/unshare", rc);
    }
  }
  if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
      rc != 0) {
    return failed("clone3", rc);
  }
  if (int rc = seccomp_load(ctx.get()); rc != 0) return failed("load", rc);
  return absl::OkStatus();
}

}  // namespace osb::agent
