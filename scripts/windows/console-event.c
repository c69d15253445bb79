/*
 * Test helper for scripts/windows-smoke.sh, never shipped: sends a console control event to a
 * running program the way Windows does when its console window is closed, the user logs off or
 * the machine shuts down, that is by starting a thread in that process at kernel32!CtrlRoutine
 * with the event as the thread's argument. CtrlRoutine then calls the program's handlers
 * (SetConsoleCtrlHandler) in order, as it would on Windows.
 *
 * It exists because Wine 8 sends none of these events (closing a wineconsole window ends the
 * program at once) and GenerateConsoleCtrlEvent only sends Ctrl+C and Ctrl+Break.
 *
 *   console-event.exe IMAGE-NAME close|logoff|shutdown
 *
 * Exactly one running process must have that image name (e.g. llm-proxy.exe). Exits 0 once the
 * thread is started; what the program does next is for the caller to check.
 */
#include <windows.h>
#include <tlhelp32.h>
#include <stdio.h>
#include <string.h>

static int fail(const char *what) {
    fprintf(stderr, "console-event: %s (error %lu)\n", what, GetLastError());
    return 1;
}

/* The id of the only process named `image`, 0 when there is none, -1 when there are several. */
static long only_process_named(const char *image) {
    PROCESSENTRY32 entry = {.dwSize = sizeof entry};
    HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    long found = 0;
    if (snapshot == INVALID_HANDLE_VALUE) return 0;
    for (BOOL more = Process32First(snapshot, &entry); more; more = Process32Next(snapshot, &entry)) {
        if (_stricmp(entry.szExeFile, image) != 0) continue;
        found = found == 0 ? (long)entry.th32ProcessID : -1;
    }
    CloseHandle(snapshot);
    return found;
}

int main(int argc, char **argv) {
    static const struct { const char *name; DWORD event; } events[] = {
        {"close", CTRL_CLOSE_EVENT}, {"logoff", CTRL_LOGOFF_EVENT}, {"shutdown", CTRL_SHUTDOWN_EVENT},
    };
    DWORD event = 0;
    int known = 0;
    if (argc == 3) {
        for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
            if (strcmp(argv[2], events[i].name) == 0) { event = events[i].event; known = 1; }
        }
    }
    if (!known) {
        fprintf(stderr, "usage: console-event.exe IMAGE-NAME close|logoff|shutdown\n");
        return 2;
    }

    long pid = only_process_named(argv[1]);
    if (pid == 0) return fail("no process with that image name");
    if (pid < 0) return fail("more than one process with that image name");

    /* kernel32 sits at the same address in every process, so this address is the target's too. */
    FARPROC routine = GetProcAddress(GetModuleHandleA("kernel32.dll"), "CtrlRoutine");
    if (routine == NULL) return fail("kernel32 has no CtrlRoutine");

    HANDLE process = OpenProcess(PROCESS_CREATE_THREAD | PROCESS_QUERY_INFORMATION |
                                     PROCESS_VM_OPERATION | PROCESS_VM_WRITE | PROCESS_VM_READ,
                                 FALSE, (DWORD)pid);
    if (process == NULL) return fail("cannot open the process");
    HANDLE thread = CreateRemoteThread(process, NULL, 0, (LPTHREAD_START_ROUTINE)(void *)routine,
                                       (LPVOID)(ULONG_PTR)event, 0, NULL);
    if (thread == NULL) return fail("cannot start a thread in the process");
    printf("console-event: %s sent to %s (pid %ld)\n", argv[2], argv[1], pid);
    CloseHandle(thread);
    CloseHandle(process);
    return 0;
}
