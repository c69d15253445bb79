/*
 * Test-only stand-in for Windows' bcryptprimitives.dll, for Wine 8 (Debian 12), which lacks it.
 * Rust's std imports ProcessPrng from that DLL for its random numbers (HashMap keys), so under
 * Wine 8 an exe stops before main without it. Real Windows 10 and later ship the DLL: this shim
 * is copied into the Wine prefix by scripts/toolchain/windows.sh and is never shipped.
 *
 * ProcessPrng fills the buffer from RtlGenRandom (exported by advapi32 as SystemFunction036),
 * which takes a ULONG length, hence the loop for buffers of 4 GiB and more.
 */
#include <windows.h>

__declspec(dllimport) BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    const SIZE_T chunk = 1UL << 30;
    while (length > 0) {
        ULONG n = (ULONG)(length < chunk ? length : chunk);
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        length -= n;
    }
    return TRUE;
}
