/* core/analyse.h: placeholder */
