/* canaryd's version, printed by --version and /server_info. */
#ifndef CANARYD_SHARED_VERSION_H
#define CANARYD_SHARED_VERSION_H

#define CANARYD_VERSION	"0.1.0"

#endif /* CANARYD_SHARED_VERSION_H */
