// SPDX-License-Identifier: GPL-2.0
/*
 * pss(1): saved snapshots. --save writes the capture the command printed;
 * --file reads one back through libpss, which answers exactly as the live
 * snapshot did, so every view prints the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pss.h"

/*
 * Write @snap with @write to PATH.tmp.PID, fsync'd if @sync, and rename it
 * to @path: a reader never sees half a file, and a failure leaves an older
 * file of the same name alone. Returns 0; -errno of the write, the
 * temporary removed, for the caller to say what failed; or 1 when the
 * temporary could not be created (said here).
 */
int file_write_atomic(struct pss_snapshot *snap, const char *path,
		      int (*write)(struct pss_snapshot *, int, unsigned int),
		      bool sync)
{
	size_t n = strlen(path) + 32;
	char *tmp = xcalloc(1, n);
	int fd, err;

	snprintf(tmp, n, "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		warnx_("%s: %s", tmp, strerror(errno));
		free(tmp);
		return 1;
	}
	err = write(snap, fd, 0);
	if (!err && sync && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}

int file_save(struct pss_snapshot *snap, const char *path)
{
	int err = file_write_atomic(snap, path, pss_snapshot_write_file, true);

	if (err < 0)
		warnx_("%s: cannot save the snapshot: %s", path, strerror(-err));
	return err ? EXIT_FAIL : EXIT_OK;
}

/* Read path into d (the facets it has, of those asked for). */
int file_load(const char *path, __u64 facets, struct snapdata *d)
{
	struct pss_snapshot *snap;
	const char *what;
	int err;

	memset(d, 0, sizeof(*d));
	err = pss_snapshot_open_file(path, &snap);
	switch (-err) {
	case 0:
		break;
	case ENOEXEC:
		warnx_("%s: not a pss snapshot file (not ELF)", path);
		return EXIT_BADFILE;
	case ENOMSG:
		warnx_("%s: not a pss snapshot file (an ELF file without pss notes)",
		       path);
		return EXIT_BADFILE;
	case EBADMSG:
		warnx_("%s: damaged pss snapshot file (truncated or corrupted)",
		       path);
		return EXIT_BADFILE;
	case EPROTONOSUPPORT:
		warnx_("%s: written by a newer pss (file format newer than %d): upgrade pss",
		       path, PSS_FILE_VERSION);
		return EXIT_NEWFILE;
	default:
		warnx_("%s: %s", path, strerror(-err));
		return EXIT_FAIL;
	}
	err = pss_query(snap, PSS_QUERY_SNAPSHOT, &d->si, sizeof(d->si));
	if (!err) {
		/* what the file has: a view of a facet not saved shows none */
		err = snapdata_load(snap, facets & d->si.facets, d, &what);
		if (err)
			warnx_("%s: %s: %s", path, what, strerror(-err));
	} else {
		warnx_("%s: query: %s", path, strerror(-err));
	}
	pss_snapshot_free(snap);
	return err ? EXIT_FAIL : EXIT_OK;
}
