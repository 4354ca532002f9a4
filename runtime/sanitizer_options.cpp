// Linked into strata-init only in sanitizer builds (STRATA_SANITIZE): ASan and
// UBSan stay on, leak checking goes off. LeakSanitizer runs at exit and reads
// /proc/<pid>/task, which init cannot see once it has chrooted or pivoted
// into a root without the host's /proc (chroot isolation): it then aborts
// with "LeakSanitizer has encountered a fatal error" and init's exit status
// becomes 1, failing a RUN step that succeeded. init is a short-lived PID 1;
// its leaks are not worth that.
extern "C" const char* __asan_default_options() {
    return "detect_leaks=0";
}
