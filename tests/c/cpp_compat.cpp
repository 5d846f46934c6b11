// The header is usable from C++ (extern "C" linkage, no C-only constructs).
#include "sellsync.h"

#include <cstring>

int main() {
    SellSync *h = nullptr;
    if (sellsync_open(nullptr, &h) != SELLSYNC_ERR_INVALID_ARGUMENT || h != nullptr) return 1;
    if (std::strlen(sellsync_last_error()) == 0) return 2;
    if (sellsync_version_number() != SELLSYNC_VERSION_NUMBER) return 3;
    return 0;
}
