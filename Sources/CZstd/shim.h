// libzstd-dev: zstd frames (zstd.h), stable API only.
#include <zstd.h>
