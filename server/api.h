/* Shared helpers of the api_*.c resource files (one file per resource; tables in router.h). */
#ifndef SRV_API_H
#define SRV_API_H

#include "server/audit.h"
#include "server/db.h"
#include "server/http.h"
#include "server/log.h"
#include "server/reply.h"
#include "server/router.h"
#include "server/validate.h"

#endif
