<?php
/**
 * Code the ruleset must refuse: each function breaks one rule. Checked by .ci/wordpress.sh,
 * which expects every sniff code listed in unsafe.expected to be reported for this file.
 *
 * @package Echo5_Leads
 */

/**
 * Prints a request value as it came.
 */
function echo5_unsafe_echo() {
	if ( isset( $_GET['q'] ) ) {
		echo '<p>' . $_GET['q'] . '</p>';
	}
	_e( 'Hello', 'echo5-leads' );
	printf( '<b>%s</b>', get_option( 'blogname' ) );
}

/**
 * Reads a form without a nonce.
 */
function echo5_unsafe_post() {
	return sanitize_text_field( wp_unslash( $_POST['name'] ) );
}

/**
 * Builds SQL from input.
 *
 * @param string $email An address.
 */
function echo5_unsafe_sql( $email ) {
	global $wpdb;
	$wpdb->query( 'DELETE FROM wp_users WHERE user_email = ' . $email );
	return $wpdb->get_var( $wpdb->prepare( "SELECT ID FROM {$wpdb->users} WHERE user_email = '$email' AND ID > %d", 0 ) );
}
