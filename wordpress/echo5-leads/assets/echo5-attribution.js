/**
 * Echo5 Leads: remembers, for the browser session, how the visitor arrived (UTM parameters,
 * gclid, fbclid, the landing page and the referring site), in a first-party cookie the
 * plugin reads when a form is submitted. Runs in the browser because page caches serve
 * landing pages without running PHP.
 */
( function () {
	'use strict';

	var NAME = 'echo5_attr';
	var KEYS = [ 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'gclid', 'fbclid' ];

	function read() {
		var m = document.cookie.match( /(?:^|;\s*)echo5_attr=([^;]*)/ );
		if ( ! m ) {
			return null;
		}
		try {
			var v = JSON.parse( decodeURIComponent( m[ 1 ] ) );
			return v && typeof v === 'object' ? v : null;
		} catch ( e ) {
			return null;
		}
	}

	function externalReferrer() {
		var r = document.referrer || '';
		if ( ! r ) {
			return '';
		}
		try {
			return new URL( r ).host === window.location.host ? '' : r.slice( 0, 1000 );
		} catch ( e ) {
			return '';
		}
	}

	function write( attr ) {
		var secure = window.location.protocol === 'https:' ? '; Secure' : '';
		// No expiry: a session cookie, gone when the browser session ends.
		document.cookie = NAME + '=' + encodeURIComponent( JSON.stringify( attr ) ) + '; path=/; SameSite=Lax' + secure;
	}

	function remember() {
		var params;
		try {
			params = new URLSearchParams( window.location.search );
		} catch ( e ) {
			return;
		}
		var found = {};
		var any = false;
		KEYS.forEach( function ( k ) {
			var v = params.get( k );
			if ( v ) {
				found[ k ] = v.slice( 0, 300 );
				any = true;
			}
		} );
		var attr = read();
		var isNew = ! attr;
		if ( isNew ) {
			attr = { landing_page: window.location.href.slice( 0, 1000 ), referrer: externalReferrer() };
		}
		if ( any ) {
			// A new campaign click within the session replaces the earlier one as a whole.
			KEYS.forEach( function ( k ) {
				delete attr[ k ];
			} );
			Object.keys( found ).forEach( function ( k ) {
				attr[ k ] = found[ k ];
			} );
		}
		if ( isNew || any ) {
			write( attr );
		}
	}

	function fillForms() {
		var inputs = document.querySelectorAll( 'input[name="echo5_page_url"]' );
		for ( var i = 0; i < inputs.length; i++ ) {
			inputs[ i ].value = window.location.href.slice( 0, 2000 );
		}
	}

	remember();
	if ( document.readyState === 'loading' ) {
		document.addEventListener( 'DOMContentLoaded', fillForms );
	} else {
		fillForms();
	}
}() );
