/*
 * libcryo-clock.so: cryo's pinned clock, preloaded (LD_PRELOAD) into the processes of a
 * build whose prjconf pins the clock (`Cryo-Clock: changelog` or `fixed N`).
 *
 * One offset O (seconds, from CRYO_CLOCK_OFFSET) is applied to everything a process can
 * observe about time, in both directions, so the pinned clock is CONSISTENT:
 *   - clocks:  time(), gettimeofday(), clock_gettime(REALTIME*, TAI), timespec_get()
 *              answer  real - O;
 *   - reading file times: stat/lstat/fstat/fstatat (+ the 64 and __xstat forms) and statx
 *              answer  real - O  for atime, mtime, ctime (and btime);
 *   - writing file times: utime/utimes/futimes/lutimes/futimesat/utimensat/futimens store
 *              given + O, so a time written and read back is unchanged (tar, cp -p,
 *              touch -d keep upstream mtimes exactly); "now" stays the kernel's now,
 *              which reads back as the pinned now.
 * A file written during the build therefore never has an mtime in the future of time(),
 * and the order of all times is the real order (make sees what it would see).
 *
 * Why not libfaketime: it fakes time() but not statx() and never maps explicit times
 * written back, so with faked stat() upstream mtimes leak shifted into packages, and without
 * it (NO_FAKE_STAT) files appear years in the future (a test suite waiting for an mtime to
 * fall behind time() hangs). And it had to be installed into the build root.
 *
 * Not covered: deadlines on CLOCK_REALTIME that the kernel compares itself and that only libc
 * can pass on (pthread_cond_timedwait with the default clock, sem_timedwait,
 * timer_settime / timerfd_settime with an absolute time): computed from the pinned clock,
 * they lie in the past and expire at once. clock_nanosleep(TIMER_ABSTIME) is mapped.
 *
 * Freestanding: no libc is linked; the kernel is called directly, only __errno_location
 * is taken from the process's libc, so the same file loads into any glibc (old or new) of
 * the architecture. Statically linked programs and libc-internal calls are not affected
 * (docs/builder.md, "Clock").
 */

typedef long i64;
typedef unsigned long u64;
typedef unsigned int u32;
typedef int i32;

#if defined(__x86_64__)
#define SYS_read 0
#define SYS_close 3
#define SYS_stat 4
#define SYS_fstat 5
#define SYS_lstat 6
#define SYS_gettimeofday 96
#define SYS_time 201
#define SYS_clock_gettime 228
#define SYS_clock_nanosleep 230
#define SYS_openat 257
#define SYS_newfstatat 262
#define SYS_utimensat 280
#define SYS_statx 332
static inline i64 sys4(i64 n, i64 a, i64 b, i64 c, i64 d) {
    i64 ret;
    register i64 r10 __asm__("r10") = d;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
}
static inline i64 sys5(i64 n, i64 a, i64 b, i64 c, i64 d, i64 e) {
    i64 ret;
    register i64 r10 __asm__("r10") = d;
    register i64 r8 __asm__("r8") = e;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
#define SYS_openat 56
#define SYS_close 57
#define SYS_read 63
#define SYS_newfstatat 79
#define SYS_fstat 80
#define SYS_utimensat 88
#define SYS_clock_gettime 113
#define SYS_clock_nanosleep 115
#define SYS_gettimeofday 169
#define SYS_statx 291
static inline i64 sys5(i64 n, i64 a, i64 b, i64 c, i64 d, i64 e) {
    register i64 x8 __asm__("x8") = n;
    register i64 x0 __asm__("x0") = a;
    register i64 x1 __asm__("x1") = b;
    register i64 x2 __asm__("x2") = c;
    register i64 x3 __asm__("x3") = d;
    register i64 x4 __asm__("x4") = e;
    __asm__ volatile("svc 0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4)
                     : "memory");
    return x0;
}
static inline i64 sys4(i64 n, i64 a, i64 b, i64 c, i64 d) { return sys5(n, a, b, c, d, 0); }
#else
#error "libcryo-clock: unsupported architecture"
#endif

#define EXPORT __attribute__((visibility("default")))
#define AT_FDCWD (-100)
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_EMPTY_PATH 0x1000
#define UTIME_NOW ((1L << 30) - 1L)
#define UTIME_OMIT ((1L << 30) - 2L)

struct ts { i64 sec; i64 nsec; };
struct tv { i64 sec; i64 usec; };

/* The kernel's struct stat, which is glibc's `struct stat` and `struct stat64` on both
 * supported architectures; only the three times are touched, found by offset. */
#if defined(__x86_64__)
struct kstat {
    u64 dev, ino, nlink;
    u32 mode, uid, gid, pad0;
    u64 rdev;
    i64 size, blksize, blocks;
    struct ts atim, mtim, ctim;
    i64 reserved[3];
};
#else
struct kstat {
    u64 dev, ino;
    u32 mode, nlink, uid, gid;
    u64 rdev, pad1;
    i64 size;
    i32 blksize, pad2;
    i64 blocks;
    struct ts atim, mtim, ctim;
    u32 unused[2];
};
#endif

struct statx_ts { i64 sec; u32 nsec; i32 reserved; };
struct kstatx {
    u32 mask, blksize;
    u64 attributes;
    u32 nlink, uid, gid;
    unsigned short mode, spare0;
    u64 ino, size, blocks, attributes_mask;
    struct statx_ts atime, btime, ctime, mtime;
    /* more fields follow; never touched */
};
#define STATX_ATIME 0x20U
#define STATX_MTIME 0x40U
#define STATX_CTIME 0x80U
#define STATX_BTIME 0x800U

extern int *__errno_location(void);

static i64 ret_errno(i64 r) {
    if (r < 0 && r > -4096) {
        *__errno_location() = (int)-r;
        return -1;
    }
    return r;
}

/* ---- the offset ---- */

static volatile int state; /* 0 unknown, 1 known */
static volatile i64 offset;

static int parse_offset(const char *s, i64 *out) {
    i64 v = 0;
    int neg = 0, digits = 0;
    if (*s == '-') { neg = 1; s++; }
    for (; *s >= '0' && *s <= '9'; s++, digits++) v = v * 10 + (*s - '0');
    if (!digits || (*s != 0 && *s != '\n')) return 0;
    *out = neg ? -v : v;
    return 1;
}

static const char KEY[] = "CRYO_CLOCK_OFFSET=";

static int match_key(const char *e) {
    for (int i = 0; KEY[i]; i++)
        if (e[i] != KEY[i]) return 0;
    return 1;
}

static void set_from_env(char **envp) {
    i64 v = 0;
    for (; envp && *envp; envp++)
        if (match_key(*envp) && parse_offset(*envp + sizeof KEY - 1, &v)) break;
    offset = v;
    state = 1;
}

/* glibc passes (argc, argv, envp) to the initialisers of shared objects. */
__attribute__((constructor)) static void init(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    set_from_env(envp);
}

/* Fallback when a call comes before the initialiser ran: the initial environment. */
static i64 off(void) {
    if (state) return offset;
    static char buf[16384];
    i64 fd = sys4(SYS_openat, AT_FDCWD, (i64) "/proc/self/environ", 0, 0);
    i64 n = 0, v = 0;
    if (fd >= 0) {
        i64 r;
        while (n < (i64)sizeof buf - 1 &&
               (r = sys4(SYS_read, fd, (i64)(buf + n), (i64)sizeof buf - 1 - n, 0)) > 0)
            n += r;
        sys4(SYS_close, fd, 0, 0, 0);
    }
    buf[n < 0 ? 0 : n] = 0;
    for (i64 i = 0; i < n; ) {
        if (match_key(buf + i)) {
            parse_offset(buf + i + sizeof KEY - 1, &v);
            break;
        }
        while (i < n && buf[i]) i++;
        i++;
    }
    offset = v;
    state = 1;
    return v;
}

/* ---- clocks ---- */

static int shifted_clock(i64 id) {
    /* CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_REALTIME_ALARM, CLOCK_TAI */
    return id == 0 || id == 5 || id == 8 || id == 11;
}

EXPORT int clock_gettime(i64 id, struct ts *tp) {
    i64 r = sys4(SYS_clock_gettime, id, (i64)tp, 0, 0);
    if (r == 0 && tp && shifted_clock(id)) tp->sec -= off();
    return (int)ret_errno(r);
}
EXPORT int __clock_gettime(i64 id, struct ts *tp) { return clock_gettime(id, tp); }

EXPORT int gettimeofday(struct tv *tv, void *tz) {
    i64 r = sys4(SYS_gettimeofday, (i64)tv, (i64)tz, 0, 0);
    if (r == 0 && tv) tv->sec -= off();
    return (int)ret_errno(r);
}
EXPORT int __gettimeofday(struct tv *tv, void *tz) { return gettimeofday(tv, tz); }

EXPORT i64 time(i64 *t) {
    struct ts now;
    i64 r = sys4(SYS_clock_gettime, 0, (i64)&now, 0, 0);
    if (r != 0) return ret_errno(r);
    i64 v = now.sec - off();
    if (t) *t = v;
    return v;
}
EXPORT i64 __time(i64 *t) { return time(t); }

/* An absolute sleep on a shifted clock waits until the pinned deadline (real = given + O).
 * Returns the error number, not -1 (POSIX). */
EXPORT int clock_nanosleep(i64 id, int flags, const struct ts *req, struct ts *rem) {
    struct ts t;
    const struct ts *r = req;
    if ((flags & 1 /* TIMER_ABSTIME */) && req && shifted_clock(id)) {
        t = *req;
        t.sec += off();
        r = &t;
    }
    i64 ret = sys4(SYS_clock_nanosleep, id, flags, (i64)r, (i64)rem);
    return ret < 0 ? (int)-ret : 0;
}

EXPORT int timespec_get(struct ts *tp, int base) {
    if (base != 1 /* TIME_UTC */) return 0;
    return clock_gettime(0, tp) == 0 ? base : 0;
}

/* ---- reading file times ---- */

static i64 fix_stat(i64 r, struct kstat *st) {
    if (r == 0 && st) {
        i64 o = off();
        st->atim.sec -= o;
        st->mtim.sec -= o;
        st->ctim.sec -= o;
    }
    return ret_errno(r);
}

static i64 do_fstatat(i64 dirfd, const char *path, struct kstat *st, i64 flags) {
    return fix_stat(sys4(SYS_newfstatat, dirfd, (i64)path, (i64)st, flags), st);
}

EXPORT int stat(const char *p, struct kstat *st) { return (int)do_fstatat(AT_FDCWD, p, st, 0); }
EXPORT int stat64(const char *p, struct kstat *st) { return stat(p, st); }
EXPORT int lstat(const char *p, struct kstat *st) {
    return (int)do_fstatat(AT_FDCWD, p, st, AT_SYMLINK_NOFOLLOW);
}
EXPORT int lstat64(const char *p, struct kstat *st) { return lstat(p, st); }
EXPORT int fstat(int fd, struct kstat *st) {
    return (int)fix_stat(sys4(SYS_fstat, fd, (i64)st, 0, 0), st);
}
EXPORT int fstat64(int fd, struct kstat *st) { return fstat(fd, st); }
EXPORT int fstatat(int dirfd, const char *p, struct kstat *st, int flags) {
    return (int)do_fstatat(dirfd, p, st, flags);
}
EXPORT int fstatat64(int dirfd, const char *p, struct kstat *st, int flags) {
    return fstatat(dirfd, p, st, flags);
}
/* glibc < 2.33 links these; `ver` always names the kernel's layout on these arches. */
EXPORT int __xstat(int ver, const char *p, struct kstat *st) { (void)ver; return stat(p, st); }
EXPORT int __xstat64(int ver, const char *p, struct kstat *st) { (void)ver; return stat(p, st); }
EXPORT int __lxstat(int ver, const char *p, struct kstat *st) { (void)ver; return lstat(p, st); }
EXPORT int __lxstat64(int ver, const char *p, struct kstat *st) { (void)ver; return lstat(p, st); }
EXPORT int __fxstat(int ver, int fd, struct kstat *st) { (void)ver; return fstat(fd, st); }
EXPORT int __fxstat64(int ver, int fd, struct kstat *st) { (void)ver; return fstat(fd, st); }
EXPORT int __fxstatat(int ver, int d, const char *p, struct kstat *st, int fl) {
    (void)ver;
    return fstatat(d, p, st, fl);
}
EXPORT int __fxstatat64(int ver, int d, const char *p, struct kstat *st, int fl) {
    (void)ver;
    return fstatat(d, p, st, fl);
}

EXPORT int statx(int dirfd, const char *p, int flags, unsigned int mask, struct kstatx *stx) {
    i64 r = sys5(SYS_statx, dirfd, (i64)p, flags, mask, (i64)stx);
    if (r == 0 && stx) {
        i64 o = off();
        if (stx->mask & STATX_ATIME) stx->atime.sec -= o;
        if (stx->mask & STATX_MTIME) stx->mtime.sec -= o;
        if (stx->mask & STATX_CTIME) stx->ctime.sec -= o;
        if (stx->mask & STATX_BTIME) stx->btime.sec -= o;
    }
    return (int)ret_errno(r);
}

/* ---- writing file times ---- */

static i64 set_times(i64 dirfd, const char *path, const struct ts *given, i64 flags) {
    struct ts t[2];
    if (!given) return ret_errno(sys4(SYS_utimensat, dirfd, (i64)path, 0, flags));
    i64 o = off();
    for (int i = 0; i < 2; i++) {
        t[i] = given[i];
        if (t[i].nsec != UTIME_NOW && t[i].nsec != UTIME_OMIT) t[i].sec += o;
    }
    return ret_errno(sys4(SYS_utimensat, dirfd, (i64)path, (i64)t, flags));
}

static int from_tv(const struct tv *tv, struct ts out[2]) {
    if (!tv) return 0;
    for (int i = 0; i < 2; i++) {
        out[i].sec = tv[i].sec;
        out[i].nsec = tv[i].usec * 1000;
    }
    return 1;
}

EXPORT int utimensat(int dirfd, const char *p, const struct ts times[2], int flags) {
    return (int)set_times(dirfd, p, times, flags);
}
EXPORT int futimens(int fd, const struct ts times[2]) {
    return (int)set_times(fd, 0, times, 0);
}
EXPORT int utimes(const char *p, const struct tv tv[2]) {
    struct ts t[2];
    return (int)set_times(AT_FDCWD, p, from_tv(tv, t) ? t : 0, 0);
}
EXPORT int lutimes(const char *p, const struct tv tv[2]) {
    struct ts t[2];
    return (int)set_times(AT_FDCWD, p, from_tv(tv, t) ? t : 0, AT_SYMLINK_NOFOLLOW);
}
EXPORT int futimes(int fd, const struct tv tv[2]) {
    struct ts t[2];
    return (int)set_times(fd, 0, from_tv(tv, t) ? t : 0, 0);
}
EXPORT int futimesat(int dirfd, const char *p, const struct tv tv[2]) {
    struct ts t[2];
    return (int)set_times(dirfd, p, from_tv(tv, t) ? t : 0, 0);
}
struct utimbuf_k { i64 actime, modtime; };
EXPORT int utime(const char *p, const struct utimbuf_k *b) {
    struct ts t[2];
    if (!b) return (int)set_times(AT_FDCWD, p, 0, 0);
    t[0].sec = b->actime;
    t[0].nsec = 0;
    t[1].sec = b->modtime;
    t[1].nsec = 0;
    return (int)set_times(AT_FDCWD, p, t, 0);
}
