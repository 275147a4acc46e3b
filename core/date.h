/* Calendar dates as days since 1970-01-01 (proleptic Gregorian, UTC). No allocation. */
#ifndef RW_DATE_H
#define RW_DATE_H

#include <stdint.h>

/* Parses "YYYY-MM-DD": exactly that shape, a real day of the month (leap years), years
 * 1900..2200 (earlier or later clinical dates are typing errors). 0 on success, -1 otherwise. */
int rw_date_parse(const char *s, int32_t *day);
/* Writes "YYYY-MM-DD" and a NUL into buf (at least 11 bytes). */
void rw_date_format(int32_t day, char *buf);

#endif
