/* placeholder */
#include "server/router.h"
const srv_route srv_samples_routes[] = {{0}};
