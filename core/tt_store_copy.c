/*
 * Copyright (C) the ngx_tiktok authors.
 * Backups of the store: a hot, compacted copy taken while the API writes
 * (LMDB's mdb_env_copy2 reads one snapshot in a read transaction and
 * never blocks a writer), and its restore into a store that no process
 * has open, under LMDB's own lock so that none can open it meanwhile.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tt_store_int.h"


/* a copy that keeps meeting a map grown by another process gives up */
#define TT_COPY_RETRIES  8

/* named databases a copy may hold (reading one needs room for it) */
#define TT_COPY_MAXDBS   64


static int tt_copy_open(const char *dir, MDB_env **env, MDB_txn **txn,
    MDB_val *v, const char **what);
static unsigned tt_copy_version(MDB_val *v);


static int
tt_copy_path(char *buf, size_t size, const char *dir, const char *name)
{
    int  n;

    n = snprintf(buf, size, "%s/%s", dir, name);

    return (n < 0 || (size_t) n >= size) ? TT_ERR : TT_OK;
}


static int
tt_copy_fsync(const char *path, int flags)
{
    int  fd, rc;

    fd = open(path, flags | O_CLOEXEC);
    if (fd == -1) {
        return TT_ERR;
    }

    rc = fsync(fd);
    (void) close(fd);

    return rc == 0 ? TT_OK : TT_ERR;
}


/*
 * Opens a copy read-only, without a lock file (nothing else may open a
 * backup), and reads its schema and last transaction id: a copy that does
 * not open this way is no backup.
 */
static int
tt_copy_check(const char *dir, tt_store_copy_t *info, char *err,
    size_t err_len)
{
    int           rc;
    MDB_env      *env;
    MDB_txn      *txn;
    MDB_val       v;
    MDB_stat      ms;
    MDB_envinfo   ei;
    const char   *what;
    unsigned      version;

    rc = tt_copy_open(dir, &env, &txn, &v, &what);

    if (rc != MDB_SUCCESS) {
        if (txn != NULL) {
            mdb_txn_abort(txn);
        }

        if (env != NULL) {
            mdb_env_close(env);
        }

        snprintf(err, err_len, "\"%s\" is not a store (%s: %s)", dir, what,
                 mdb_strerror(rc));
        return TT_INVALID;
    }

    version = tt_copy_version(&v);

    if (version == 0 || version > TT_SCHEMA_VERSION) {
        snprintf(err, err_len, "\"%s\" holds store schema \"%.*s\", which "
                 "this build (schema %d) cannot open", dir,
                 (int) (v.mv_size < 16 ? v.mv_size : 16),
                 (const char *) v.mv_data, TT_SCHEMA_VERSION);
        mdb_txn_abort(txn);
        mdb_env_close(env);
        return TT_INVALID;
    }

    mdb_txn_abort(txn);

    /* the pages in use: the file itself may be longer (its map size) */
    rc = mdb_env_info(env, &ei);
    if (rc == MDB_SUCCESS) {
        rc = mdb_env_stat(env, &ms);
    }

    mdb_env_close(env);

    if (rc != MDB_SUCCESS) {
        snprintf(err, err_len, "mdb_env_info(\"%s\") failed: %s", dir,
                 mdb_strerror(rc));
        return TT_ERR;
    }

    info->schema = version;
    info->size = ((uint64_t) ei.me_last_pgno + 1) * ms.ms_psize;

    return TT_OK;
}


/*
 * opens the copy read-only and reads its meta "schema" into *v, inside
 * *txn; on failure *what names the step, and *env, *txn what is open
 */
static int
tt_copy_open(const char *dir, MDB_env **env, MDB_txn **txn, MDB_val *v,
    const char **what)
{
    int      rc;
    MDB_dbi  dbi;
    MDB_val  k;

    *env = NULL;
    *txn = NULL;

    *what = "mdb_env_create";
    rc = mdb_env_create(env);
    if (rc != MDB_SUCCESS) {
        *env = NULL;
        return rc;
    }

    *what = "mdb_env_open";
    rc = mdb_env_set_maxdbs(*env, TT_COPY_MAXDBS);
    if (rc == MDB_SUCCESS) {
        rc = mdb_env_open(*env, dir, MDB_RDONLY | MDB_NOLOCK, 0660);
    }

    if (rc == MDB_SUCCESS) {
        *what = "reading meta";
        rc = mdb_txn_begin(*env, NULL, MDB_RDONLY, txn);
        if (rc != MDB_SUCCESS) {
            *txn = NULL;
        }
    }

    if (rc == MDB_SUCCESS) {
        rc = mdb_dbi_open(*txn, "meta", 0, &dbi);
    }

    if (rc == MDB_SUCCESS) {
        k.mv_data = "schema";
        k.mv_size = sizeof("schema") - 1;
        rc = mdb_get(*txn, dbi, &k, v);
    }

    return rc;
}


/* the schema's decimal digits; 0 if not; v->mv_size 0 if not 1-9 bytes */
static unsigned
tt_copy_version(MDB_val *v)
{
    size_t    i;
    unsigned  version;

    version = 0;
    if (v->mv_size == 0 || v->mv_size > 9) {
        v->mv_size = 0;
    }

    for (i = 0; i < v->mv_size; i++) {
        char  c = ((const char *) v->mv_data)[i];

        if (c < '0' || c > '9') {
            return 0;
        }

        version = version * 10 + (unsigned) (c - '0');
    }

    return version;
}


int
tt_store_copy(tt_store_t *st, const char *dir, tt_store_copy_t *info,
    char *err, size_t err_len)
{
    int          rc, i;
    char         file[PATH_MAX];
    struct stat  sb;

    memset(info, 0, sizeof(tt_store_copy_t));

    if (tt_copy_path(file, sizeof(file), dir, "data.mdb") != TT_OK) {
        snprintf(err, err_len, "backup path \"%s\" is too long", dir);
        return TT_INVALID;
    }

    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "mkdir(\"%s\") failed: %s", dir,
                 strerror(errno));
        return TT_ERR;
    }

    if (lstat(file, &sb) == 0) {
        snprintf(err, err_len, "\"%s\" exists: a backup goes into a new or "
                 "empty directory", file);
        return TT_EXISTS;
    }

    /*
     * One read transaction inside mdb_env_copy2: the copy holds every
     * transaction committed before it began, and none after.  It starts
     * again when another process grew the map past this one's.
     */
    for (i = 0; i < TT_COPY_RETRIES; i++) {
        rc = mdb_env_copy2(st->env, dir, MDB_CP_COMPACT);
        if (rc != MDB_MAP_RESIZED) {
            break;
        }

        (void) unlink(file);

        if (tt_store_adopt(st) != TT_OK) {
            break;
        }
    }

    if (rc != MDB_SUCCESS) {
        snprintf(err, err_len, "mdb_env_copy2(\"%s\") failed: %s", dir,
                 mdb_strerror(rc));
        (void) unlink(file);
        return tt_store_rc(st, rc);
    }

    /* LMDB does not sync the copy: a backup is on the disk when it ends */
    if (tt_copy_fsync(file, O_RDONLY) != TT_OK
        || tt_copy_fsync(dir, O_RDONLY | O_DIRECTORY) != TT_OK)
    {
        snprintf(err, err_len, "fsync of \"%s\" failed: %s", file,
                 strerror(errno));
        return TT_ERR;
    }

    return tt_copy_check(dir, info, err, err_len);
}


/*
 * Every process that has the environment open holds a shared fcntl lock
 * on the first byte of lock.mdb, and the first one to open it takes that
 * byte exclusively while it sets the lock file up.  Holding the byte
 * exclusively here therefore means that no nginx worker, scheduler or
 * tiktok-admin has the store open, and that one which starts now waits
 * in mdb_env_open until the restore is over, then finds the new file
 * (and, being first, sets up the lock file again).
 */
static int
tt_restore_lock(const char *store, int *fd, char *err, size_t err_len)
{
    char          path[PATH_MAX];
    struct flock  fl;

    if (tt_copy_path(path, sizeof(path), store, "lock.mdb") != TT_OK) {
        snprintf(err, err_len, "store path \"%s\" is too long", store);
        return TT_INVALID;
    }

    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
    if (*fd == -1) {
        snprintf(err, err_len, "open(\"%s\") failed: %s", path,
                 strerror(errno));
        return TT_ERR;
    }

    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 1;

    if (fcntl(*fd, F_SETLK, &fl) == 0) {
        return TT_OK;
    }

    if (errno != EAGAIN && errno != EACCES) {
        snprintf(err, err_len, "locking \"%s\" failed: %s", path,
                 strerror(errno));
        return TT_ERR;
    }

    /* who holds it: one of them is enough to name */
    fl.l_type = F_WRLCK;
    fl.l_pid = 0;
    if (fcntl(*fd, F_GETLK, &fl) != 0 || fl.l_type == F_UNLCK) {
        fl.l_pid = 0;
    }

    snprintf(err, err_len, "the store \"%s\" is in use (process %ld has it "
             "open: nginx, tiktok-scheduler or tiktok-admin): stop nginx and "
             "the scheduler (systemctl stop nginx tiktok-scheduler), then "
             "restore again, or restore into a new directory and point "
             "tiktok_store at it", store, (long) fl.l_pid);
    return TT_CONFLICT;
}


/* the restored file belongs to whoever owns the store's directory */
static int
tt_restore_owner(int fd, const char *store)
{
    struct stat  sb;

    if (geteuid() != 0 || stat(store, &sb) != 0) {
        return TT_OK;
    }

    return fchown(fd, sb.st_uid, sb.st_gid) == 0 ? TT_OK : TT_ERR;
}


static int
tt_restore_write(const char *from, const char *to, const char *store,
    char *err, size_t err_len)
{
    int      in, out, rc;
    char     buf[65536];
    ssize_t  n, w, off;

    in = open(from, O_RDONLY | O_CLOEXEC);
    if (in == -1) {
        snprintf(err, err_len, "open(\"%s\") failed: %s", from,
                 strerror(errno));
        return TT_ERR;
    }

    (void) unlink(to);

    out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0660);
    if (out == -1) {
        snprintf(err, err_len, "open(\"%s\") failed: %s", to,
                 strerror(errno));
        (void) close(in);
        return TT_ERR;
    }

    rc = TT_OK;

    while (rc == TT_OK && (n = read(in, buf, sizeof(buf))) != 0) {
        if (n < 0) {
            rc = (errno == EINTR) ? TT_OK : TT_ERR;
            continue;
        }

        for (off = 0; rc == TT_OK && off < n; off += w) {
            w = write(out, buf + off, (size_t) (n - off));
            if (w < 0) {
                w = 0;
                rc = (errno == EINTR) ? TT_OK : TT_ERR;
            }
        }
    }

    if (rc == TT_OK && (tt_restore_owner(out, store) != TT_OK
                        || fsync(out) != 0))
    {
        rc = TT_ERR;
    }

    if (rc != TT_OK) {
        snprintf(err, err_len, "writing \"%s\" failed: %s", to,
                 strerror(errno));
    }

    (void) close(in);

    if (close(out) != 0 && rc == TT_OK) {
        snprintf(err, err_len, "close(\"%s\") failed: %s", to,
                 strerror(errno));
        rc = TT_ERR;
    }

    if (rc != TT_OK) {
        (void) unlink(to);
    }

    return rc;
}


/* the old file stays as data.mdb.old; the new one replaces it at once */
static int
tt_restore_swap(const char *store, const char *tmp, int force, char *err,
    size_t err_len)
{
    char         data[PATH_MAX], old[PATH_MAX];
    struct stat  sb;

    if (tt_copy_path(data, sizeof(data), store, "data.mdb") != TT_OK
        || tt_copy_path(old, sizeof(old), store, "data.mdb.old") != TT_OK)
    {
        snprintf(err, err_len, "store path \"%s\" is too long", store);
        return TT_INVALID;
    }

    if (lstat(data, &sb) == 0) {
        if (!force) {
            snprintf(err, err_len, "\"%s\" holds a store already: restore "
                     "into a new directory, or add --force to replace it "
                     "(the old file is kept as data.mdb.old)", store);
            return TT_EXISTS;
        }

        if (rename(data, old) != 0) {
            snprintf(err, err_len, "rename(\"%s\") failed: %s", data,
                     strerror(errno));
            return TT_ERR;
        }
    }

    if (rename(tmp, data) != 0) {
        snprintf(err, err_len, "rename(\"%s\") failed: %s", tmp,
                 strerror(errno));
        return TT_ERR;
    }

    if (tt_copy_fsync(store, O_RDONLY | O_DIRECTORY) != TT_OK) {
        snprintf(err, err_len, "fsync(\"%s\") failed: %s", store,
                 strerror(errno));
        return TT_ERR;
    }

    return TT_OK;
}


int
tt_store_restore(const char *backup, const char *store, int force,
    tt_store_copy_t *info, char *err, size_t err_len)
{
    int   rc, lock;
    char  from[PATH_MAX], tmp[PATH_MAX];

    memset(info, 0, sizeof(tt_store_copy_t));

    if (tt_copy_path(from, sizeof(from), backup, "data.mdb") != TT_OK
        || tt_copy_path(tmp, sizeof(tmp), store, "data.mdb.restore")
           != TT_OK)
    {
        snprintf(err, err_len, "path too long");
        return TT_INVALID;
    }

    rc = tt_copy_check(backup, info, err, err_len);
    if (rc != TT_OK) {
        return rc;
    }

    if (mkdir(store, 0770) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "mkdir(\"%s\") failed: %s", store,
                 strerror(errno));
        return TT_ERR;
    }

    lock = -1;
    rc = tt_restore_lock(store, &lock, err, err_len);

    if (rc == TT_OK) {
        (void) tt_restore_owner(lock, store);
        rc = tt_restore_write(from, tmp, store, err, err_len);
    }

    if (rc == TT_OK) {
        rc = tt_restore_swap(store, tmp, force, err, err_len);
        if (rc != TT_OK) {
            (void) unlink(tmp);
        }
    }

    /* closing the file lets a waiting opener in */
    if (lock != -1) {
        (void) close(lock);
    }

    return rc;
}
