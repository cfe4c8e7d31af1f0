#ifndef CRC32C_SHIM_H
#define CRC32C_SHIM_H
// The CPU's CRC32C instruction (x86-64 SSE4.2 `crc32`), exposed to Swift behind a run-time
// check. Swift has no intrinsics, so this is the only C in the Records path. See README.md.
#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU executes the SSE4.2 crc32 instruction, else 0 (also 0 on other architectures).
int crc32c_shim_hardware_available(void);

/// Continues a CRC32C over `length` bytes. `crc` is the raw register value (already inverted,
/// i.e. ~previous result); the caller inverts before and after. Only call when
/// crc32c_shim_hardware_available() returned 1.
uint32_t crc32c_shim_update(uint32_t crc, const void *data, size_t length);

#endif
