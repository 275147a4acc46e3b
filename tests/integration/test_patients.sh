#!/bin/sh
# placeholder until implemented
exit 77
