// The three symbols that @jazzer.js/fuzzer's prebuilt linux-x64 addon takes
// from glibc 2.38 and libstdc++ 13 but that Debian 12 (glibc 2.36, GCC 12)
// lacks; see compat/jazzer-compat.mjs for how they are supplied.
#include <cstdlib>
#include <ios>

// C23 strtol/strtoul (glibc 2.38) differ from the old ones only in also
// accepting a 0b prefix for base 0 or 2, which libFuzzer's flag parsing never needs.
extern "C" long __isoc23_strtol(const char* text, char** end, int base) { return std::strtol(text, end, base); }
extern "C" unsigned long __isoc23_strtoul(const char* text, char** end, int base) { return std::strtoul(text, end, base); }

// GCC 13 moved the initialisation of std::cout and friends into libstdc++
// and references this function from every file that includes <iostream>.
// With GCC 12's libstdc++ an ios_base::Init object does the same.
namespace std {
void ios_base_library_init() { static ios_base::Init init; }
}
static std::ios_base::Init streams_ready;
