/*
 * Who may drive the admin port (see admin.h): every endpoint that changes
 * something answers only POST, and a POST is served only to a peer in the
 * allow list (loopback, 127.0.0.0/8 and ::1, unless configured) or to a
 * client that shows the operator's bearer token.  Read-only endpoints
 * answer anyone who can reach the port, as Envoy's do.
 *
 * The token is read from a file at start and on reload; a file that its
 * group or others may read is refused (the token would not be a secret).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "shared/cidr.h"
#include "shared/log.h"
#include "admin.h"
#include "mst.h"

#define ACL_TOKEN_MAX	4096

static struct {
	struct cd_cidr	*a_allow;	/* NULL: loopback */
	size_t		 a_nallow;
	char		*a_token;	/* NULL: none */
	size_t		 a_token_len;
} acl;

int
mst_admin_token_read(const char *path, char **out, size_t *len,
    char *why, size_t whylen)
{
	struct stat st;
	char buf[ACL_TOKEN_MAX + 1];
	ssize_t n;
	int fd;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
		snprintf(why, whylen, "%s: readable by its group or others "
		    "(mode %03o): chmod 600 it", path,
		    (unsigned)st.st_mode & 0777);
		goto fail;
	}
	if ((n = read(fd, buf, ACL_TOKEN_MAX + 1)) == -1 ||
	    n > ACL_TOKEN_MAX) {
		snprintf(why, whylen, "%s: %s", path, n == -1 ?
		    strerror(errno) : "longer than 4096 bytes");
		goto fail;
	}
	/* the first line, without trailing blanks */
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	n = (ssize_t)strlen(buf);
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	if (n == 0) {
		snprintf(why, whylen, "%s: empty", path);
		goto fail;
	}
	close(fd);
	if ((*out = strdup(buf)) == NULL) {
		snprintf(why, whylen, "%s: out of memory", path);
		return -1;
	}
	*len = (size_t)n;
	return 0;
fail:
	close(fd);
	return -1;
}

int
mst_admin_acl_set(const struct cd_cidr *allow, size_t n,
    const char *token_file)
{
	struct cd_cidr *a = NULL;
	char *tok = NULL, why[512];
	size_t tlen = 0;

	if (token_file != NULL && mst_admin_token_read(token_file, &tok,
	    &tlen, why, sizeof(why)) == -1) {
		log_warnx("admin: token file %s", why);
		return -1;
	}
	if (n > 0 && (a = reallocarray(NULL, n, sizeof(*a))) == NULL) {
		free(tok);
		log_warn("admin: access list");
		return -1;
	}
	if (n > 0)
		memcpy(a, allow, n * sizeof(*a));
	free(acl.a_allow);
	if (acl.a_token != NULL)
		explicit_bzero(acl.a_token, acl.a_token_len);
	free(acl.a_token);
	acl.a_allow = a;
	acl.a_nallow = n;
	acl.a_token = tok;
	acl.a_token_len = tlen;
	return 0;
}

/* Equal in time that depends on the lengths only. */
static bool
acl_same(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char d = 0;
	size_t i;

	if (alen != blen)
		return false;
	for (i = 0; i < alen; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

bool
mst_admin_acl_allows(const struct sockaddr *peer, const char *authz,
    size_t authz_len)
{
	size_t i;

	if (acl.a_nallow == 0 && cd_cidr_is_loopback(peer))
		return true;
	for (i = 0; i < acl.a_nallow; i++)
		if (cd_cidr_match(&acl.a_allow[i], peer))
			return true;
	if (acl.a_token == NULL || authz == NULL || authz_len < 7 ||
	    strncasecmp(authz, "Bearer ", 7) != 0)
		return false;
	return acl_same(authz + 7, authz_len - 7, acl.a_token,
	    acl.a_token_len);
}

/*
 * The command line wins over the configuration's
 * node.metadata.canaryd.admin, each setting on its own: --admin-allow
 * replaces the allow list, --admin-token-file the token file.
 */
int
mst_admin_access_apply(void)
{
	const struct cd_admin_acl *aa = mst.m_conf != NULL ?
	    &mst.m_conf->c_node.n_admin : NULL;
	const struct cd_cidr *allow = mst.m_admin_allow;
	size_t n = mst.m_admin_nallow;
	const char *token = mst.m_admin_token_file;

	if (n == 0 && aa != NULL && aa->aa_set) {
		allow = aa->aa_allow;
		n = aa->aa_nallow;
	}
	if (token == NULL && aa != NULL && aa->aa_set)
		token = aa->aa_token_file;
	return mst_admin_acl_set(allow, n, token);
}
