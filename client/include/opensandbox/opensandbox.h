// libopensandbox: run untrusted code in OpenSandbox sandboxes from C++, through osbd.
// Include this header for everything; see sandbox.h to start.
#pragma once

#include "opensandbox/async.h"
#include "opensandbox/batch.h"
#include "opensandbox/codes.h"
#include "opensandbox/commands.h"
#include "opensandbox/error.h"
#include "opensandbox/execution.h"
#include "opensandbox/file_types.h"
#include "opensandbox/files.h"
#include "opensandbox/options.h"
#include "opensandbox/pools.h"
#include "opensandbox/sandbox.h"
#include "opensandbox/sandbox_info.h"
#include "opensandbox/sandbox_manager.h"
#include "opensandbox/sandbox_spec.h"
#include "opensandbox/templates.h"
