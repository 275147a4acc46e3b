/* placeholder */
#include "server/router.h"
const srv_route srv_health_routes[] = {{0}};
