/* placeholder */
#include "server/router.h"
const srv_route srv_tokens_routes[] = {{0}};
