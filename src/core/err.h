/* Error codes: actions return 0 or a negative GW_E* code. */
#ifndef GW_CORE_ERR_H
#define GW_CORE_ERR_H

enum {
	GW_OK = 0,
	GW_ENOMEM = -1,
	GW_ETOOBIG = -2,   /* a configured maximum was crossed */
	GW_EINVAL = -3,    /* malformed input */
	GW_EIO = -4,       /* a system call or peer failed */
	GW_ENOENT = -5,    /* no such thing */
	GW_ETIMEDOUT = -6,
	GW_EAGAIN = -7,    /* incomplete input: call again with more */
	GW_EBUSY = -8,     /* a bounded queue is full */
	GW_ESTATE = -9,    /* not possible in the current state */
};

const char *gw_strerror(int err);

#endif
