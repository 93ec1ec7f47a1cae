// SPDX-License-Identifier: Apache-2.0
// CSluiceSystemd has no out-of-line code; this file exists because SwiftPM needs one source file per C target.
#include "CSluiceSystemd.h"
