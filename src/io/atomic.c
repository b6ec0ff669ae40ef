#include "io/atomic.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

cy_status cy_atomic_open(cy_atomic_file *a, const char *path, cy_error *err) {
    memset(a, 0, sizeof *a);
    if (strlen(path) + 32 >= sizeof a->tmp) return cy_fail(err, CY_ERR_ARG, "%s: path too long", path);
    snprintf(a->path, sizeof a->path, "%s", path);
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp.%ld", path, (long)getpid());
    a->f = fopen(a->tmp, "wb");
    if (!a->f) return cy_fail(err, CY_ERR_IO, "%s: cannot write: %s", a->tmp, strerror(errno));
    return CY_OK;
}

void cy_atomic_abort(cy_atomic_file *a) {
    if (a->f) fclose(a->f);
    a->f = NULL;
    if (a->tmp[0]) unlink(a->tmp);
}

static void fsync_dir(const char *path) {
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

cy_status cy_atomic_commit(cy_atomic_file *a, cy_error *err) {
    int ok = a->f && fflush(a->f) == 0 && fsync(fileno(a->f)) == 0;
    int e = errno;
    if (a->f && fclose(a->f) != 0) ok = 0, e = errno;
    a->f = NULL;
    if (ok && rename(a->tmp, a->path) != 0) ok = 0, e = errno;
    if (!ok) {
        unlink(a->tmp);
        return cy_fail(err, CY_ERR_IO, "%s: write failed: %s", a->path, strerror(e));
    }
    fsync_dir(a->path);
    return CY_OK;
}

cy_status cy_mkdirs(const char *path, cy_error *err) {
    char p[4096];
    if (strlen(path) >= sizeof p) return cy_fail(err, CY_ERR_ARG, "%s: path too long", path);
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0777) && errno != EEXIST) return cy_fail(err, CY_ERR_IO, "%s: cannot create: %s", p, strerror(errno));
        *s = '/';
    }
    if (mkdir(p, 0777) && errno != EEXIST) return cy_fail(err, CY_ERR_IO, "%s: cannot create: %s", p, strerror(errno));
    struct stat st;
    if (stat(p, &st) || !S_ISDIR(st.st_mode)) return cy_fail(err, CY_ERR_IO, "%s: exists and is not a folder", p);
    return CY_OK;
}
