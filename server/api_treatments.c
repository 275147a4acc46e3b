/* placeholder */
#include "server/router.h"
const srv_route srv_treatments_routes[] = {{0}};
