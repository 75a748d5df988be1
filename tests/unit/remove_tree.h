/*
 * remove_tree.h - for unit tests: remove a temporary directory and all it
 * holds (directories a test made unreadable are opened up first).
 * Included by the tests that work in a directory of their own.
 */
#ifndef POSTERN_TESTS_REMOVE_TREE_H
#define POSTERN_TESTS_REMOVE_TREE_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
remove_tree(const char *path)
{
	struct stat st;
	struct dirent *de;
	char child[1024];
	DIR *dir;

	if (lstat(path, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	(void)chmod(path, 0700);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
		remove_tree(child);
	}
	closedir(dir);
	return rmdir(path);
}

#endif
