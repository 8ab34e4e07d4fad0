/*
 * Small types every part of canaryd speaks: what a state-machine step
 * did.  A -t.h header: types only, no prototypes.
 *
 * The project's three return shapes: I/O-like functions return 0 or -1
 * with errno set, as syscalls do; constructors return a pointer or NULL;
 * a step of a state machine returns enum cd_rc.
 */
#ifndef CANARYD_SHARED_CD_T_H
#define CANARYD_SHARED_CD_T_H

enum cd_rc {
	CD_OK,		/* progress, or nothing to do: carry on */
	CD_AGAIN,	/* waiting for an event */
	CD_DONE,	/* finished */
	CD_ERR,		/* failed; the connection is closed */
};

#endif /* CANARYD_SHARED_CD_T_H */
