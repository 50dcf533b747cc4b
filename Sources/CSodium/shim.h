// Only what Swift needs to see of libsodium; no logic lives in C.
#include <sodium.h>
