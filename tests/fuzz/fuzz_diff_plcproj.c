/* libFuzzer target for the plcproj format of the diff engine (see fuzz_format.h). */
#include "fuzz_format.h"

FUZZ_FORMAT(diff_fmt_plcproj, true)
