/* placeholder */
#include "server/router.h"
const srv_route srv_patients_routes[] = {{0}};
