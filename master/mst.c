/*
 * The master's state (see mst.h): its one instance, in a file of its
 * own so that every module, and every unit test, links against it
 * without linking the program's entry point.
 */
#include "mst.h"

struct mst mst;
