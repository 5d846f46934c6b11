/* Includes the header in a second translation unit: it must link without duplicate symbols. */
#include "sellsync.h"
#include "sellsync.h"

int second_translation_unit_status_ok(void);

int second_translation_unit_status_ok(void) {
    return SELLSYNC_OK == 0 && sellsync_status_str(SELLSYNC_ERR_CLOSED) != 0;
}
