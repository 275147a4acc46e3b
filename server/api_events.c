/* placeholder */
#include "server/router.h"
const srv_route srv_events_routes[] = {{0}};
